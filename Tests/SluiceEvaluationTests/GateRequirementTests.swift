import Foundation
import SluiceEvaluation
import Testing

/// `--require` texts: what parses, what it means, and the message for what does not.
@Suite("gate requirements")
struct GateRequirementTests {
    @Test(arguments: [
        ("auc>=0.8", GateRequirement(metric: .auc, comparison: .greaterOrEqual, bound: .value(0.8))),
        ("logloss<=production", GateRequirement(metric: .logloss, comparison: .lessOrEqual, bound: .production(offset: 0))),
        ("auc >= production - 0.01", GateRequirement(metric: .auc, comparison: .greaterOrEqual, bound: .production(offset: -0.01))),
        ("rmse<production+0.5", GateRequirement(metric: .rmse, comparison: .less, bound: .production(offset: 0.5))),
        ("F1>1e-3", GateRequirement(metric: .f1, comparison: .greater, bound: .value(0.001))),
        ("r2>=-0.5", GateRequirement(metric: .r2, comparison: .greaterOrEqual, bound: .value(-0.5))),
        ("  mae<=Production  ", GateRequirement(metric: .mae, comparison: .lessOrEqual, bound: .production(offset: 0))),
    ])
    func parses(text: String, expected: GateRequirement) throws {
        let parsed = try GateRequirement(parsing: text)
        #expect(parsed.metric == expected.metric)
        #expect(parsed.comparison == expected.comparison)
        #expect(parsed.bound == expected.bound)
        #expect(parsed.text == text.trimmingCharacters(in: .whitespaces))
    }

    @Test(arguments: [
        ("auc=>0.8", "\"=>\" is not a comparison operator"),
        ("auc==0.8", "\"==\" is not a comparison operator"),
        ("auc0.8", "no comparison operator"),
        ("aucc>=0.8", "unknown metric \"aucc\""),
        (">=0.8", "no metric before \">=\""),
        ("auc>=", "no value after \">=\""),
        ("auc>=high", "\"high\" is neither a number nor `production`"),
        ("auc>=production*2", "\"production*2\" is not `production`, `production+X` or `production-X`"),
        ("auc>=production-", "\"\" after \"production-\" is not a number"),
        ("auc>=production-x", "\"x\" after \"production-\" is not a number"),
        ("auc>=nan", "\"nan\" is neither a number nor `production`"),
        ("", "the requirement is empty"),
    ])
    func badTextNamesTheTextAndTheExpectedForm(text: String, problem: String) {
        do {
            let parsed = try GateRequirement(parsing: text)
            Issue.record("\"\(text)\" parsed as \(parsed)")
        } catch {
            #expect(error.text == text)
            #expect(error.message == "--require \"\(text)\": \(problem); \(GateRequirement.expectedForm)")
            #expect(error.message.contains("e.g. \"auc>=0.8\", \"logloss<=production\", \"auc>=production-0.01\""))
        }
    }

    @Test func fixedBoundsCompareTheCandidateOnly() throws {
        let requirement = try GateRequirement(parsing: "auc>=0.8")
        #expect(requirement.check(candidate: 0.8, production: 0.95).outcome == .passed)
        let failed = requirement.check(candidate: 0.79, production: nil)
        #expect(failed.outcome == .failed("candidate auc 0.790000 is not >= 0.800000"))
        #expect(try GateRequirement(parsing: "auc>0.8").check(candidate: 0.8, production: nil).allowsPromotion == false)
    }

    @Test func productionBoundsAddTheOffsetToProductionsValue() throws {
        let requirement = try GateRequirement(parsing: "auc>=production-0.01")
        let passed = requirement.check(candidate: 0.875, production: 0.88)
        #expect(passed.outcome == .passed)
        #expect(passed.threshold == 0.88 - 0.01)
        let failed = requirement.check(candidate: 0.86, production: 0.88)
        #expect(failed.outcome == .failed("candidate auc 0.860000 is not >= 0.870000 (production 0.880000 - 0.01)"))
        let logloss = try GateRequirement(parsing: "logloss<=production")
        #expect(logloss.check(candidate: 0.4, production: 0.35).outcome == .failed("candidate logloss 0.400000 is not <= 0.350000 (production 0.350000)"))
    }

    @Test func aFailureByAHairShowsEveryDigit() throws {
        let requirement = try GateRequirement(parsing: "logloss<=production")
        let failed = requirement.check(candidate: 0.35000000001, production: 0.35)
        #expect(failed.outcome == .failed("candidate logloss 0.35000000001 is not <= 0.35 (production 0.35)"))
    }

    @Test func withoutProductionAProductionBoundFailsUnlessFirstVersionsAreAllowed() throws {
        let requirement = try GateRequirement(parsing: "logloss<=production")
        let failed = requirement.check(candidate: 0.3, production: nil)
        #expect(failed.allowsPromotion == false)
        #expect(failed.outcome.reason?.hasPrefix("it compares with the production version, and there is none") == true)
        let skipped = requirement.check(candidate: 0.3, production: nil, allowFirst: true)
        #expect(skipped.allowsPromotion)
        #expect(skipped.outcome.label == "skipped")
        #expect(skipped.threshold == nil)
        // --allow-first changes nothing for a fixed bound.
        #expect(try GateRequirement(parsing: "logloss<=0.2").check(candidate: 0.3, production: nil, allowFirst: true).allowsPromotion == false)
    }
}
