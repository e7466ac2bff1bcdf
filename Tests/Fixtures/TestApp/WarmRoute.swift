import FPM
import FPMSystem

/// pm.warm_template in the test app: `warmUp` builds a table of env[TESTAPP_WARM_MB] MiB (a
/// ``WarmTable``, or with env[TESTAPP_WARM_OBJECTS] the same bytes as one class instance per
/// 4 KiB page, the layout reference counting dirties), appends "warm PID" to env[TESTAPP_EVENTS]
/// and throws while env[TESTAPP_WARM_FAIL] is set (it first sleeps env[TESTAPP_WARM_SLEEP_MS]), or while
/// the file env[TESTAPP_WARM_FAIL_IF] names exists. Without the template (no warmUp ran) setUp
/// builds the same table in each worker, as an app without the directive would. `/warm` reads one byte of every page of the
/// table and answers the sum (`?hold=MS`: then stays busy that long), the worker's pid and its parent's.
final class WarmState {
    var table: WarmTable? = nil
    var pages: [WarmPage] = []

    final class WarmPage {
        var bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    struct WarmFailed: Error, CustomStringConvertible { var description: String }

    func warmUp(_ pool: PoolInfo, append: (String, String) -> Void) throws {
        let env = Dictionary(pool.environment, uniquingKeysWith: { $1 })
        if let path = env["TESTAPP_EVENTS"] { append("warm \(Processes.pid)\n", path) }
        if let ms = env["TESTAPP_WARM_SLEEP_MS"].flatMap({ Int($0) }) { slowRouteSleep(milliseconds: ms) }
        if let flag = env["TESTAPP_WARM_FAIL_IF"], (try? FileSystem.status(flag)) != nil {
            throw WarmFailed(description: "test warm-up failed: \(flag) exists")
        }
        if let reason = env["TESTAPP_WARM_FAIL"] { throw WarmFailed(description: "test warm-up failed: \(reason)") }
        guard let megabytes = env["TESTAPP_WARM_MB"].flatMap({ Int($0) }), megabytes > 0 else { return }
        let count = megabytes << 20
        if env["TESTAPP_WARM_OBJECTS"] != nil {
            pages = (0..<(count / 4096)).map { page in WarmPage([UInt8](repeating: UInt8(truncatingIfNeeded: page | 1), count: 4096 - 64)) }
        } else {
            table = WarmTable(count: count) { bytes in
                for i in stride(from: 0, to: bytes.count, by: 4096) {
                    bytes.baseAddress!.advanced(by: i).initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: i >> 12 | 1), count: 4096)
                }
            }
        }
    }

    /// In setUp: the table, when no template built it (the bench's "without").
    func buildIfMissing(_ worker: WorkerInfo, append: (String, String) -> Void) throws {
        guard table == nil, pages.isEmpty else { return }
        let env = Dictionary(worker.environment, uniquingKeysWith: { $1 })
        guard env["TESTAPP_WARM_MB"] != nil else { return }
        var quiet = env
        quiet["TESTAPP_EVENTS"] = nil
        try warmUp(PoolInfo(name: worker.pool, environment: quiet.map { ($0.key, $0.value) }), append: append)
    }

    /// One byte of every page: what a lookup spread over the table costs in shared memory.
    func read() -> Int {
        var sum = 0
        if let table {
            for i in stride(from: 0, to: table.count, by: 4096) { sum &+= Int(table[i]) }
        }
        if !pages.isEmpty {
            // What a lookup over objects does: it hands back references (a retain each, a write
            // into each object's header: its page is no longer shared).
            var found: [WarmPage] = []
            found.reserveCapacity(pages.count)
            for page in pages { found.append(page) }
            for page in found { sum &+= Int(page.bytes[0]) }
        }
        return sum
    }

    /// `?hold=MS` keeps the worker busy after the read, so that concurrent requests reach
    /// every worker.
    func route(_ request: Request, _ response: Response) throws {
        let sum = read()
        if let ms = request.query["hold"].flatMap({ Int($0) }) { slowRouteSleep(milliseconds: ms) }
        try response.write("warm sum \(sum) pid \(Processes.pid) ppid \(Processes.parentPID)\n")
    }
}
