import Foundation
import Testing
@testable import SluiceMonitoring

private struct DetectorFile: Decodable {
    struct State: Decodable { var index: Int; var width: Double; var estimation: Double }
    struct Stream: Decodable {
        var name: String
        var stream: SampleSpec
        var adwin: [Int]
        var page_hinkley: [Int]
        var page_hinkley_up: [Int]
        var page_hinkley_down: [Int]
        var adwin_state: [State]
    }
    var streams: [Stream]
}

@Suite struct DetectorParityTests {
    @Test func adwinDetectsAtRiversIndicesWithRiversWindow() throws {
        let file = try FixtureSupport.load(DetectorFile.self, "detectors.json")
        #expect(file.streams.contains { !$0.adwin.isEmpty })
        for s in file.streams {
            let xs = try s.stream.generateChecked()
            var adwin = ADWIN()
            var detections: [Int] = []
            var states: [Int: (Double, Double)] = [:]
            for (i, x) in xs.enumerated() {
                if adwin.update(x) { detections.append(i) }
                if i % 500 == 499 { states[i] = (adwin.width, adwin.estimation) }
            }
            #expect(detections == s.adwin, "\(s.name)")
            for st in s.adwin_state {
                let mine = try #require(states[st.index])
                #expect(mine.0 == st.width, "\(s.name) width at \(st.index)")
                #expect(FixtureSupport.relativelyClose(mine.1, st.estimation, 1e-12) || abs(mine.1 - st.estimation) < 1e-12, "\(s.name) mean at \(st.index)")
            }
        }
    }

    @Test func pageHinkleyDetectsAtRiversIndicesInEveryMode() throws {
        let file = try FixtureSupport.load(DetectorFile.self, "detectors.json")
        #expect(file.streams.contains { !$0.page_hinkley.isEmpty })
        for s in file.streams {
            let xs = try s.stream.generateChecked()
            for (mode, expected) in [(PageHinkley.Mode.both, s.page_hinkley), (.up, s.page_hinkley_up), (.down, s.page_hinkley_down)] {
                var ph = PageHinkley(mode: mode)
                var detections: [Int] = []
                for (i, x) in xs.enumerated() where ph.update(x) { detections.append(i) }
                #expect(detections == expected, "\(s.name) mode \(mode)")
            }
        }
    }
}
