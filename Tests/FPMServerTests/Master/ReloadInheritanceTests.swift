@testable import FPMServer
@testable import FPMStatus
import FPMConfiguration
import FPMSystem
import Testing

/// What crosses the reload's exec: one versioned value that decodes to exactly what was
/// encoded, and refuses anything else loudly.
@Suite struct ReloadInheritanceTests {
    static let sample = ReloadInheritance(
        generation: 3, reloadFailures: 1, lastReloadError: "a.conf:3: listen = 80: cannot bind\nsecond line",
        configurationPath: "/etc/swift-fpm/fpm.conf",
        configuration: "[global]\nerror_log = /dev/stderr\n\n[www]\nlisten = 127.0.0.1:9000\n",
        fallback: .init(configurationPath: "/etc/old.conf", configuration: "[www]\nlisten = 127.0.0.1:9000\nconfiguration 3\n"),
        listeners: [.init(fd: 5, key: "127.0.0.1:9000"), .init(fd: 6, key: "/run/fpm with space.sock")],
        handoffs: [.init(pool: "www", read: 7, write: 8)],
        children: [
            .init(pid: 100, pool: "www", generation: 2, control: 9, quitting: false, startedMono: 123_456_789),
            .init(pid: 101, pool: "php", generation: 1, control: nil, quitting: true, startedMono: 5),
        ])

    @Test func decodesToWhatWasEncoded() throws {
        let decoded = try ReloadInheritance.decode(Self.sample.encode())
        var expected = Self.sample
        expected.lastReloadError = "a.conf:3: listen = 80: cannot bind second line"  // one line in the record
        #expect(decoded == expected)
    }

    @Test func socketsSystemdPassedStayMarked() throws {
        var value = Self.sample
        value.activated = ["/run/fpm with space.sock", "127.0.0.1:9000"]
        #expect(try ReloadInheritance.decode(value.encode()).activated == value.activated)
    }

    @Test func aDrainCrossesTheReloadAndIsWrittenOnlyWhileInForce() throws {
        var value = Self.sample
        #expect(!String(decoding: value.encode(), as: UTF8.self).contains("draining"))
        #expect(try !ReloadInheritance.decode(value.encode()).draining)
        value.draining = true
        #expect(try ReloadInheritance.decode(value.encode()).draining)
    }

    @Test func theEmbeddedDefaultHasNoPath() throws {
        var value = Self.sample
        value.configurationPath = nil
        #expect(try ReloadInheritance.decode(value.encode()).configurationPath == nil)
    }

    @Test func theConfigurationTravelsByteForByte() throws {
        var value = Self.sample
        value.configuration = "child 1 2 3\nconfiguration 99\nswift-fpm-inheritance 7\n; é ✓\n"
        #expect(try ReloadInheritance.decode(value.encode()).configuration == value.configuration)
    }

    @Test func namesEveryDescriptorThatMustSurviveExec() {
        #expect(Self.sample.descriptors.sorted() == [5, 6, 7, 8, 9])
    }

    @Test func refusesAnotherVersionOrATruncatedRecord() {
        var bytes = Self.sample.encode()
        let other = Array("swift-fpm-inheritance 2".utf8) + bytes.drop { $0 != UInt8(ascii: "\n") }
        #expect(throws: ReloadInheritance.DecodingError.self) { try ReloadInheritance.decode(other) }
        bytes.removeLast(3)
        #expect(throws: ReloadInheritance.DecodingError.self) { try ReloadInheritance.decode(bytes) }
        #expect(throws: ReloadInheritance.DecodingError.self) { try ReloadInheritance.decode(Array("hello\n".utf8)) }
    }

    /// The master re-reads the rendered configuration in its new image: it must come back equal
    /// to what was validated.
    @Test func theRenderedConfigurationReadsBackEqual() throws {
        let original = ConfigurationLoader.loadEmbedded()
        let text = original.renderEffective()
        let inherited = try ConfigurationLoader.load(text: text, path: nil, environment: [:], fileSystem: .isolated)
        #expect(inherited.global == original.global)
        #expect(inherited.pools.map(\.name) == original.pools.map(\.name))
        #expect(inherited.pools.first?.listen == original.pools.first?.listen)
        #expect(inherited.renderEffective() == text)
    }
}

/// `fpmctl` reads what the master writes, through the same type.
@Suite struct MasterStateFileTests {
    @Test func parsesWhatItRenders() {
        let state = MasterStateFile(pid: 42, generation: 7, phase: .handover, config: "/etc/fpm.conf", pools: ["www", "api"],
                                    reloadFailures: 2, lastReloadError: "a.conf:3: pm.bogus = 1: unknown directive\nsecond line")
        let parsed = MasterStateFile.parse(state.render())
        #expect(parsed?.pid == 42)
        #expect(parsed?.generation == 7)
        #expect(parsed?.phase == .handover)
        #expect(parsed?.pools == ["www", "api"])
        #expect(parsed?.reloadFailures == 2)
        #expect(parsed?.lastReloadError == "a.conf:3: pm.bogus = 1: unknown directive second line")
        #expect(parsed?.reopens == 0 && parsed?.lastReopenError == "")
    }

    @Test func carriesTheLastReopensOutcome() {
        let state = MasterStateFile(pid: 42, generation: 1, phase: .running, config: "(embedded)", pools: ["www"],
                                    reloadFailures: 0, lastReloadError: "", reopens: 3, lastReopenError: "error log: open: ENOTDIR")
        let parsed = MasterStateFile.parse(state.render())
        #expect(parsed == state)
    }

    @Test func carriesThePoolBeingPrepared() {
        var state = MasterStateFile(pid: 42, generation: 1, phase: .running, config: "(embedded)", pools: ["www"],
                                    reloadFailures: 0, lastReloadError: "", preparing: "www")
        #expect(MasterStateFile.parse(state.render()) == state)
        #expect(state.phaseDescription == "running, preparing pool www")
        state.preparing = ""
        #expect(state.phaseDescription == "running")
        #expect(MasterStateFile.parse("pid=1\ngeneration=1\nstate=running\n")?.preparing == "", "a file from before this field")
    }

    @Test func carriesDrainingAndFailingPools() {
        var state = MasterStateFile(pid: 42, generation: 1, phase: .running, config: "(embedded)", pools: ["www", "api"],
                                    reloadFailures: 0, lastReloadError: "", draining: true,
                                    failing: ["api": "exited with code 1 after 0.004 seconds from start"])
        #expect(MasterStateFile.parse(state.render()) == state)
        #expect(state.phaseDescription == "running, draining")
        state.phase = .finishing
        #expect(state.phaseDescription == "finishing")
        // A master that predates drains writes no such key: nil, which fpmctl must not signal.
        #expect(MasterStateFile.parse("pid=1\ngeneration=1\nstate=running\n")?.draining == nil)
        #expect(MasterStateFile.parse(MasterStateFile(pid: 1, generation: 1, phase: .running, config: "", pools: [],
                                                      reloadFailures: 0, lastReloadError: "").render())?.draining == false)
    }

    @Test func everyPhaseOfProcessControlHasAName() {
        #expect(MasterStateFile.Phase(.starting) == .starting)
        #expect(MasterStateFile.Phase(.running) == .running)
        #expect(MasterStateFile.Phase(.handingOver(deadline: 5)) == .handover)
        #expect(MasterStateFile.Phase(.finishing) == .finishing)
        #expect(MasterStateFile.Phase(.terminating) == .terminating)
        #expect(MasterStateFile.parse("pid=1\ngeneration=1\nstate=bogus\n") == nil)
    }
}
