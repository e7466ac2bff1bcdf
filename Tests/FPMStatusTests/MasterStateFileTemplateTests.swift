import FPMStatus
import Testing

/// The state file's warm-template lines (`fpmctl status` prints them): written per pool, read
/// back, absent for a master without templates.
@Suite struct MasterStateFileTemplateTests {
    @Test func templatesRoundTrip() throws {
        var state = MasterStateFile(pid: 42, generation: 3, phase: .running, config: "/etc/fpm.conf", pools: ["www", "api"],
                                    reloadFailures: 0, lastReloadError: "", failing: ["api": "exited with code 1"])
        state.templates = ["www": "pid 77, warmUp 37 ms", "api": "pid 78, warming up"]
        let text = state.render()
        #expect(text.contains("warm_template.www=pid 77, warmUp 37 ms\n"))
        let read = try #require(MasterStateFile.parse(text))
        #expect(read.templates == state.templates)
        #expect(read.failing == state.failing)
    }

    @Test func noTemplatesNoLines() throws {
        let state = MasterStateFile(pid: 42, generation: 1, phase: .running, config: "c", pools: ["www"],
                                    reloadFailures: 0, lastReloadError: "")
        #expect(!state.render().contains("warm_template"))
        #expect(try #require(MasterStateFile.parse(state.render())).templates.isEmpty)
    }
}
