import FPMConfiguration
import Testing

/// `pm.max_memory`: php.ini-style sizes, 0 (the default) for no limit, written back by `-tt`.
@Suite struct MaxMemoryTests {
    @Test(arguments: [("0", 0), ("1048576", 1_048_576), ("512K", 512 << 10), ("32M", 32 << 20), ("32m", 32 << 20), ("2G", 2 << 30)])
    func readsASize(_ text: String, _ bytes: Int) throws {
        #expect(try loadPool("pm.max_memory = \(text)").maxMemory == bytes)
    }

    @Test func isOffByDefault() throws {
        #expect(try loadPool("").maxMemory == 0)
    }

    @Test(arguments: ["-1M", "12X", "M", "1.5G", "99999999999999999999G"])
    func refusesABadSize(_ text: String) {
        let found = errors(minimalPool + "pm.max_memory = \(text)\n")
        #expect(found.count == 1 && found[0].contains("t.conf:6: pm.max_memory = \(text)"), "\(found)")
    }

    @Test func renderingReadsBack() throws {
        let configuration = try load(minimalPool + "pm.max_memory = 48M\n")
        #expect(configuration.renderEffective().contains("pm.max_memory = 48M"))
        let again = try load(configuration.renderEffective())
        #expect(again.pools[0].maxMemory == 48 << 20)
    }
}
