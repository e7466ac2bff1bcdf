import FPMSystem
import Glibc
import Testing

/// The master raises its descriptor limit to what its pools need (Master.descriptorsNeeded,
/// tested in FPMServerTests' DescriptorEstimateTests), never above the hard limit and never
/// lowering it.
@Suite struct DescriptorLimitTests {
    @Test func theSoftLimitRisesToTheHardOneAtMostAndNeverFalls() {
        let before = Processes.descriptorLimit
        #expect(Processes.raiseDescriptorLimit(to: 16) == before)  // never lowered
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        let hard = limit.rlim_max == rlim_t.max ? Int.max : Int(limit.rlim_max)
        #expect(Processes.raiseDescriptorLimit(to: Int.max) == hard)
    }
}
