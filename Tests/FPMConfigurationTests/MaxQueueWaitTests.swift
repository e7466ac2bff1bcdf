import FPMConfiguration
import Testing

/// `pm.max_queue_wait`: a time in ms or php-fpm's time forms (no suffix: seconds), 0 (the
/// default) for off, written back by `-tt`, refused for exec pools.
@Suite struct MaxQueueWaitTests {
    @Test(arguments: [("0", 0), ("200ms", 200), ("2s", 2000), ("2", 2000), ("1m", 60_000), ("1500ms", 1500)])
    func readsATime(_ text: String, _ millis: Int) throws {
        #expect(try loadPool("pm.max_queue_wait = \(text)").maxQueueWait == millis)
    }

    @Test func isOffByDefault() throws {
        #expect(try loadPool("").maxQueueWait == 0)
    }

    @Test(arguments: ["-200ms", "12x", "ms", "1.5s", "0.2", "99999999999999999999ms"])
    func refusesABadTime(_ text: String) {
        let found = errors(minimalPool + "pm.max_queue_wait = \(text)\n")
        #expect(found.count == 1 && found[0].contains("t.conf:6: pm.max_queue_wait = \(text)"), "\(found)")
    }

    @Test(arguments: [("200ms", "200ms"), ("2000ms", "2s"), ("90s", "90s"), ("60s", "1m")])
    func renderingReadsBack(_ text: String, _ rendered: String) throws {
        let configuration = try load(minimalPool + "pm.max_queue_wait = \(text)\n")
        #expect(configuration.renderEffective().contains("pm.max_queue_wait = \(rendered)"))
        let again = try load(configuration.renderEffective())
        #expect(again.pools[0].maxQueueWait == configuration.pools[0].maxQueueWait)
    }

    @Test func anExecPoolIsRefusedWithFileAndLine() {
        let found = errors(minimalPool + "exec = /usr/bin/php-cgi\npm.max_queue_wait = 200ms\n")
        #expect(found.contains { $0.contains("pm.max_queue_wait") && $0.contains("exec program accepts connections itself") }, "\(found)")
    }
}
