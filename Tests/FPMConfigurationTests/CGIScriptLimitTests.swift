import FPMConfiguration
import Testing

/// `cgi.rlimit_as` (a size) and `cgi.rlimit_cpu` (seconds): off by default, bad values named by
/// file, line and directive, written back by `-tt`.
@Suite struct CGIScriptLimitTests {
    static let cgiPool = """
        [www]
        listen = 127.0.0.1:9000
        pm = static
        pm.max_children = 1
        handler = cgi

        """

    @Test(arguments: [("0", 0), ("64M", 64 << 20), ("512m", 512 << 20), ("1G", 1 << 30), ("1048576", 1 << 20)])
    func addressSpaceIsASize(_ text: String, _ bytes: Int) throws {
        #expect(try load(Self.cgiPool + "cgi.rlimit_as = \(text)\n").pools[0].cgiRlimitAS == bytes)
    }

    @Test(arguments: [("0", 0), ("1", 1), ("30s", 30), ("2m", 120)])
    func cpuIsSeconds(_ text: String, _ seconds: Int) throws {
        #expect(try load(Self.cgiPool + "cgi.rlimit_cpu = \(text)\n").pools[0].cgiRlimitCPU == seconds)
    }

    @Test func bothAreOffByDefault() throws {
        let pool = try load(Self.cgiPool).pools[0]
        #expect(pool.cgiRlimitAS == 0 && pool.cgiRlimitCPU == 0)
    }

    @Test(arguments: [("cgi.rlimit_as", "-1M"), ("cgi.rlimit_as", "12X"), ("cgi.rlimit_as", "lots"),
                      ("cgi.rlimit_cpu", "-1"), ("cgi.rlimit_cpu", "1.5"), ("cgi.rlimit_cpu", "10x")])
    func refusesABadValue(_ directive: String, _ text: String) {
        let found = errors(Self.cgiPool + "\(directive) = \(text)\n")
        #expect(found.count == 1 && found[0].contains("t.conf:6: \(directive) = \(text)"), "\(found)")
    }

    @Test func anAddressSpaceTooSmallToStartAScriptIsRefused() {
        #expect(errors(Self.cgiPool + "cgi.rlimit_as = 512K\n") == [
            "t.conf:6: cgi.rlimit_as = 512K: must be 0 (no limit) or at least 1M"
        ])
    }

    @Test func onAPoolThatIsNotCGIItIsIgnoredWithAWarning() throws {
        let configuration = try load(minimalPool + "cgi.rlimit_cpu = 5\n")
        #expect(configuration.warnings.map(\.description).contains {
            $0.contains("cgi.rlimit_cpu = 5s") && $0.contains("'handler = cgi' pool only")
        }, "\(configuration.warnings.map(\.description))")
    }

    @Test func renderingReadsBack() throws {
        let configuration = try load(Self.cgiPool + "cgi.rlimit_as = 64M\ncgi.rlimit_cpu = 2\n")
        let text = configuration.renderEffective()
        #expect(text.contains("cgi.rlimit_as = 64M"))
        #expect(text.contains("cgi.rlimit_cpu = 2s"))
        let again = try load(text).pools[0]
        #expect(again.cgiRlimitAS == 64 << 20 && again.cgiRlimitCPU == 2)
    }
}
