import CFPMShims
import Glibc

/// Another process's CPU time and resident memory, from /proc (what `fpmctl top` shows per
/// worker; the master is no worker's parent from fpmctl's side, so getrusage cannot tell).
package struct ProcessSample: Sendable, Equatable {
    /// User + system CPU time, microseconds.
    package var cpuMicros: Int
    /// Resident set size, bytes.
    package var residentBytes: Int

    package init(cpuMicros: Int, residentBytes: Int) {
        self.cpuMicros = cpuMicros
        self.residentBytes = residentBytes
    }

    /// Reads /proc/PID/stat (utime, stime) and /proc/PID/statm (resident pages); nil when the
    /// process is gone. The corresponding C functions are `open`/`read` and `sysconf`.
    package static func read(_ pid: Int32) -> ProcessSample? {
        guard let stat = FileIO.readFile("/proc/\(pid)/stat", limit: 4096),
              let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Fields after the command's ")": state is field 3; utime and stime are 14 and 15.
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 12, let utime = Int(String(decoding: fields[11], as: UTF8.self)),
              let stime = Int(String(decoding: fields[12], as: UTF8.self)) else { return nil }
        let ticks = max(1, sysconf(Int32(_SC_CLK_TCK)))
        var resident = 0
        if let statm = FileIO.readFile("/proc/\(pid)/statm", limit: 512) {
            let parts = statm.split(separator: UInt8(ascii: " "))
            if parts.count > 1, let pages = Int(String(decoding: parts[1], as: UTF8.self)) {
                resident = pages * Int(sysconf(Int32(_SC_PAGESIZE)))
            }
        }
        return ProcessSample(cpuMicros: (utime + stime) * 1_000_000 / ticks, residentBytes: resident)
    }

    /// Whether `pid` is a zombie or gone: an exited master not yet reaped by its parent
    /// still answers kill(pid, 0).
    package static func hasExited(_ pid: Int32) -> Bool {
        guard let stat = FileIO.readFile("/proc/\(pid)/stat", limit: 4096),
              let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count else { return true }
        let state = stat[close + 2]
        return state == UInt8(ascii: "Z") || state == UInt8(ascii: "X")
    }
}
