@testable import FPMServer
import FPMConfiguration
import FPMSystem
import Glibc
import Testing

/// The master raises its descriptor limit to what its pools need (about two per pool, one per
/// access log, two per worker), never above the hard limit and never lowering it.
@Suite struct DescriptorLimitTests {
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

    @Test func theSoftLimitRisesToTheHardOneAtMostAndNeverFalls() {
        let before = Processes.descriptorLimit
        #expect(Processes.raiseDescriptorLimit(to: 16) == before)  // never lowered
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        let hard = limit.rlim_max == rlim_t.max ? Int.max : Int(limit.rlim_max)
        #expect(Processes.raiseDescriptorLimit(to: Int.max) == hard)
    }
}
