// Benchmark of SluiceInference scoring (build with `swift build -c release`).
//
//   models-bench [xgboost.json lightgbm.txt]
//   valgrind models-bench --repeat 256 ...; valgrind models-bench --repeat 2560 ...
//     (equal "total heap usage" figures show the scoring paths allocate nothing per row)
//
// Without arguments it builds synthetic 100-tree, depth-6, 30-feature binary models (complete
// trees, the worst case for a depth-6 model) in memory. Real models of that shape come from
// `python3 scripts/fixtures/gen_models.py --bench-out .bench-models`.
// Prints µs per row (best of several runs, thread CPU time) for single-row scoring, batches of
// 256 rows, and TreeSHAP explanations.
import Foundation
import SluiceInference

struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-12), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

let featureCount = 30, treeCount = 100, depth = 6

/// A complete depth-6 binary:logistic XGBoost model as JSON text.
func syntheticXGBoost(_ rng: inout SplitMix64) -> String {
    let internalCount = (1 << depth) - 1, nodeCount = (1 << (depth + 1)) - 1
    var trees: [String] = []
    for t in 0..<treeCount {
        var left = [Int](), right = [Int](), cond = [String](), feat = [Int](), defaults = [Int](), hess = [Double](repeating: 0, count: nodeCount)
        for i in 0..<nodeCount {
            if i < internalCount {
                left.append(2 * i + 1); right.append(2 * i + 2)
                cond.append("\(Float(rng.normal() * 0.7))"); feat.append(Int(rng.next() % UInt64(featureCount)))
                defaults.append(Int(rng.next() % 2))
            } else {
                left.append(-1); right.append(-1); cond.append("\(Float(rng.normal() * 0.1))"); feat.append(0); defaults.append(0)
                hess[i] = 1 + rng.uniform() * 10
            }
        }
        for i in stride(from: internalCount - 1, through: 0, by: -1) { hess[i] = hess[2 * i + 1] + hess[2 * i + 2] }
        trees.append("""
        {"base_weights":[],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],\
        "default_left":\(defaults),"id":\(t),"left_children":\(left),"loss_changes":[],"parents":[],"right_children":\(right),\
        "split_conditions":[\(cond.joined(separator: ","))],"split_indices":\(feat),"split_type":\([Int](repeating: 0, count: nodeCount)),\
        "sum_hessian":\(hess),"tree_param":{"num_deleted":"0","num_feature":"\(featureCount)","num_nodes":"\(nodeCount)","size_leaf_vector":"1"}}
        """)
    }
    let names = (0..<featureCount).map { "\"f\($0)\"" }.joined(separator: ",")
    return """
    {"learner":{"attributes":{},"feature_names":[\(names)],"feature_types":[],"gradient_booster":{"model":{\
    "gbtree_model_param":{"num_parallel_tree":"1","num_trees":"\(treeCount)"},"iteration_indptr":[],\
    "tree_info":\([Int](repeating: 0, count: treeCount)),"trees":[\(trees.joined(separator: ","))]},"name":"gbtree"},\
    "learner_model_param":{"base_score":"[5E-1]","boost_from_average":"1","num_class":"0","num_feature":"\(featureCount)","num_target":"1"},\
    "objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[3,2,0]}
    """
}

/// A complete depth-6 (64-leaf) binary LightGBM model as text.
func syntheticLightGBM(_ rng: inout SplitMix64) -> String {
    let internalCount = (1 << depth) - 1, leafCount = 1 << depth
    var text = "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=\(featureCount - 1)\n"
    text += "objective=binary sigmoid:1\nfeature_names=\((0..<featureCount).map { "f\($0)" }.joined(separator: " "))\n\n"
    for t in 0..<treeCount {
        func child(_ c: Int) -> Int { c < internalCount ? c : ~(c - internalCount) }
        let counts = (0..<leafCount).map { _ in 1 + Int(rng.next() % 100) }
        var internalCounts = [Int](repeating: 0, count: internalCount)
        func total(_ c: Int) -> Int { c < internalCount ? internalCounts[c] : counts[c - internalCount] }
        for i in stride(from: internalCount - 1, through: 0, by: -1) { internalCounts[i] = total(2 * i + 1) + total(2 * i + 2) }
        text += "Tree=\(t)\nnum_leaves=\(leafCount)\nnum_cat=0\n"
        text += "split_feature=\((0..<internalCount).map { _ in String(rng.next() % UInt64(featureCount)) }.joined(separator: " "))\n"
        text += "threshold=\((0..<internalCount).map { _ in String(rng.normal() * 0.7) }.joined(separator: " "))\n"
        text += "decision_type=\((0..<internalCount).map { _ in rng.next() % 2 == 0 ? "8" : "10" }.joined(separator: " "))\n"
        text += "left_child=\((0..<internalCount).map { String(child(2 * $0 + 1)) }.joined(separator: " "))\n"
        text += "right_child=\((0..<internalCount).map { String(child(2 * $0 + 2)) }.joined(separator: " "))\n"
        text += "leaf_value=\((0..<leafCount).map { _ in String(rng.normal() * 0.1) }.joined(separator: " "))\n"
        text += "leaf_count=\(counts.map(String.init).joined(separator: " "))\n"
        text += "internal_count=\(internalCounts.map(String.init).joined(separator: " "))\n"
        text += "is_linear=0\nshrinkage=0.1\n\n\n"
    }
    return text + "end of trees\n"
}

/// CPU time of this thread in seconds: under a shared, loaded machine it excludes time spent descheduled.
func threadCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Runs `body` (which scores `rows` rows) `repeats` times and prints the best µs per row.
func measure(_ label: String, rows: Int, repeats: Int, _ body: () -> Double) -> Double {
    var sink = body()  // warm-up
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = threadCPUTime()
        sink += body()
        best = min(best, (threadCPUTime() - start) * 1e6 / Double(rows))
    }
    print("  \(label.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%8.3f", best)) µs/row   (checksum \(String(format: "%.4g", sink)))")
    return best
}

func bench(_ name: String, _ model: LoadedModel, rows: [Double], rowCount: Int) {
    let f = model.featureNames.count
    print("\(name): \(model.format), \(f) features, \(model.outputCount) output(s)")
    var out = [Double](repeating: 0, count: max(256, rowCount) * model.marginCount)
    var contributions = [Double](repeating: 0, count: model.marginCount * (f + 1))
    rows.withUnsafeBufferPointer { all in
        out.withUnsafeMutableBufferPointer { o in
            _ = measure("single row predict", rows: rowCount, repeats: 25) {
                var s = 0.0
                for r in 0..<rowCount {
                    model.predict(row: UnsafeBufferPointer(rebasing: all[(r * f)..<(r * f + f)]), into: o)
                    s += o[0]
                }
                return s
            }
            _ = measure("batch 256 predict", rows: rowCount, repeats: 25) {
                var s = 0.0
                var start = 0
                while start + 256 <= rowCount {
                    model.predictBatch(rows: UnsafeBufferPointer(rebasing: all[(start * f)..<((start + 256) * f)]), rowCount: 256, into: o)
                    s += o[0]
                    start += 256
                }
                return s
            }
            _ = measure("batch \(rowCount) predict", rows: rowCount, repeats: 25) {
                model.predictBatch(rows: all, rowCount: rowCount, into: o)
                return o[0]
            }
        }
        contributions.withUnsafeMutableBufferPointer { c in
            let n = min(rowCount, 256)
            _ = measure("single row explain (TreeSHAP)", rows: n, repeats: 5) {
                var s = 0.0
                for r in 0..<n {
                    model.explain(row: UnsafeBufferPointer(rebasing: all[(r * f)..<(r * f + f)]), into: c)
                    s += c[0]
                }
                return s
            }
            _ = measure("path attribution (approx)", rows: rowCount, repeats: 5) {
                var s = 0.0
                for r in 0..<rowCount {
                    model.explainPath(row: UnsafeBufferPointer(rebasing: all[(r * f)..<(r * f + f)]), into: c)
                    s += c[0]
                }
                return s
            }
            _ = measure("explain + top-5", rows: n, repeats: 5) {
                var s = 0.0
                for r in 0..<n {
                    model.explain(row: UnsafeBufferPointer(rebasing: all[(r * f)..<(r * f + f)]), into: c)
                    s += FeatureContribution.topK(5, of: c[0..<f]).first?.contribution ?? 0
                }
                return s
            }
        }
    }
}

/// `--repeat N`: scores N single rows, N rows in batches of 256 and N explanations per model and
/// prints nothing else; run it under `valgrind` with two values of N to check that the scoring
/// paths allocate nothing per row (the heap totals must not grow with N).
func repeatOnly(_ model: LoadedModel, rows: [Double], rowCount: Int, times: Int) -> Double {
    let f = model.featureNames.count
    var out = [Double](repeating: 0, count: 256 * model.marginCount)
    var contributions = [Double](repeating: 0, count: model.marginCount * (f + 1))
    var sink = 0.0
    rows.withUnsafeBufferPointer { all in
        out.withUnsafeMutableBufferPointer { o in
            contributions.withUnsafeMutableBufferPointer { c in
                for i in 0..<times {
                    let r = i % rowCount
                    let row = UnsafeBufferPointer(rebasing: all[(r * f)..<(r * f + f)])
                    model.predict(row: row, into: o)
                    model.predictMargin(row: row, into: o)
                    model.explain(row: row, into: c)
                    model.explainPath(row: row, into: c)
                    sink += o[0] + c[0]
                }
                for _ in 0..<(times / 256) {
                    model.predictBatch(rows: UnsafeBufferPointer(rebasing: all[0..<(256 * f)]), rowCount: 256, into: o)
                    sink += o[0]
                }
            }
        }
    }
    return sink
}

var rng = SplitMix64(state: 42)
var arguments = CommandLine.arguments.dropFirst()
var repeatCount: Int? = nil
if let flag = arguments.firstIndex(of: "--repeat"), flag + 1 < arguments.endIndex {
    repeatCount = Int(arguments[flag + 1])
    arguments.removeSubrange(flag...(flag + 1))
}
let xgbData: Data, lgbData: Data, source: String
if arguments.count == 2 {
    xgbData = try Data(contentsOf: URL(fileURLWithPath: arguments[arguments.startIndex]))
    lgbData = try Data(contentsOf: URL(fileURLWithPath: arguments[arguments.startIndex + 1]))
    source = "files"
} else {
    xgbData = Data(syntheticXGBoost(&rng).utf8)
    lgbData = Data(syntheticLightGBM(&rng).utf8)
    source = "synthetic complete trees"
}
let clock = ContinuousClock()
var xgb: LoadedModel? = nil, lgb: LoadedModel? = nil
let xgbLoad = try clock.measure { xgb = try ModelLoader.load(data: xgbData) }
let lgbLoad = try clock.measure { lgb = try ModelLoader.load(data: lgbData) }
guard let xgb, let lgb else { fatalError("models did not load") }
if let times = repeatCount {
    var rows = [Double](repeating: 0, count: 1024 * xgb.featureNames.count)
    for i in rows.indices { rows[i] = rng.uniform() < 0.02 ? .nan : rng.normal() }
    let sink = repeatOnly(xgb, rows: rows, rowCount: 1024, times: times) + repeatOnly(lgb, rows: rows, rowCount: 1024, times: times)
    print("repeated \(times) times (checksum \(sink))")
    exit(0)
}
print("models-bench: 100 trees, depth 6, \(xgb.featureNames.count) features (\(source)); load xgboost \(xgbLoad), lightgbm \(lgbLoad)")

let rowCount = 1024
let f = xgb.featureNames.count
var rows = [Double](repeating: 0, count: rowCount * f)
for i in rows.indices { rows[i] = rng.uniform() < 0.02 ? .nan : rng.normal() }
bench("xgboost", xgb, rows: rows, rowCount: rowCount)
bench("lightgbm", lgb, rows: rows, rowCount: rowCount)
