/// A worker's own log line on its way to the master, which writes it to the error log. A worker
/// holds no descriptor of the master's log (a pool's code could otherwise write anything into it,
/// or keep a rotated file alive); it writes these lines into a pipe the master reads, and the
/// master names the worker in front of each one, so a line cannot pass for another pool's.
///
/// On the pipe: one severity digit, the message with its line breaks made spaces, a newline.
package enum WorkerLogLine {
    /// The bytes a worker writes for one line; the message is cut to `limit` bytes.
    package static func encode(_ severity: LogSeverity, _ message: String, limit: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(min(message.utf8.count, limit) + 2)
        out.append(UInt8(ascii: "0") + UInt8(severity.rawValue))
        for byte in message.utf8.prefix(limit) {
            out.append(byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") ? UInt8(ascii: " ") : byte)
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// A line as the master read it (without its newline): its severity (WARNING when the
    /// first byte is not one) and message.
    package static func decode(_ line: some Collection<UInt8>) -> (LogSeverity, String) {
        if let first = line.first, first >= UInt8(ascii: "1"), let severity = LogSeverity(rawValue: Int(first - UInt8(ascii: "0"))) {
            return (severity, String(decoding: line.dropFirst(), as: UTF8.self))
        }
        return (.warning, String(decoding: line, as: UTF8.self))
    }

    /// The message as the master logs it: `[pool www] child 123: …`. A message that already
    /// names this very worker keeps its words; one that names only the pool gets the child.
    package static func attributed(_ message: String, pool: String, pid: Int32) -> String {
        let poolPrefix = "[pool \(pool)] "
        let childPrefix = "\(poolPrefix)child \(pid)"
        if message.hasPrefix(childPrefix + " ") || message.hasPrefix(childPrefix + ":") { return message }
        if message.hasPrefix(poolPrefix) { return "\(childPrefix): \(message.dropFirst(poolPrefix.count))" }
        return "\(childPrefix): \(message)"
    }
}
