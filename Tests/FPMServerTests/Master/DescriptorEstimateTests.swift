@testable import FPMServer
import FPMConfiguration
import Testing

/// What the master asks of the descriptor limit: about two per pool, one per access log, two
/// per worker (Processes.raiseDescriptorLimit, in FPMSystemTests, raises it).
@Suite struct DescriptorEstimateTests {
    @Test func theEstimateCountsPoolsAccessLogsAndWorkers() throws {
        func pools(_ extra: String) -> String {
            var text = "[global]\n"
            for i in 1...1000 { text += "[p\(i)]\nlisten = /run/p\(i).sock\npm = ondemand\npm.max_children = 1\nhandler = info\n\(extra)" }
            return text
        }
        let plain = try ConfigurationLoader.load(text: pools(""), path: nil, environment: [:], fileSystem: .isolated)
        // 2 per pool (listener, hand-off) + 2 per worker (its control channel, twice during a hand-over).
        #expect(Master.descriptorsNeeded(plain) == 64 + 1000 * (2 + 2))
        let logged = try ConfigurationLoader.load(
            text: pools("access.log = /var/log/a.log\ncatch_workers_output = yes\n"),
            path: nil, environment: [:], fileSystem: .isolated)
        #expect(Master.descriptorsNeeded(logged) == 64 + 1000 * (3 + 2 * 3))
    }
}
