/// A job server's address as pool files and the UDF write it: `HOST[:PORT]`, `[IPv6]:PORT`;
/// the port defaults to gearmand's 4730.
public struct GearmanServerAddress: Equatable, Sendable, CustomStringConvertible {
    public static let defaultPort: UInt16 = 4730

    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16 = defaultPort) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST`, `HOST:PORT`, `[V6]` or `[V6]:PORT`; nil for an empty host, a bad or zero
    /// port, or a bare IPv6 literal (ambiguous without brackets).
    public init?(_ text: String) {
        let s = Substring(text)
        var host: Substring
        var portText: Substring?
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            host = s[s.index(after: s.startIndex)..<close]
            let rest = s[s.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else {
            let colons = s.filter { $0 == ":" }.count
            guard colons <= 1 else { return nil }
            if let colon = s.firstIndex(of: ":") {
                host = s[..<colon]
                portText = s[s.index(after: colon)...]
            } else {
                host = s
            }
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "\t" }) else { return nil }
        var port = Self.defaultPort
        if let portText {
            guard let p = UInt16(portText), p > 0 else { return nil }
            port = p
        }
        self.host = String(host)
        self.port = port
    }

    /// Parses a comma-separated list (`gearman.servers`); nil when any entry is bad or the list is empty.
    public static func list(_ text: String) -> [GearmanServerAddress]? {
        let entries = text.split(separator: ",").map { $0.trimmingSpaces() }
        guard !entries.isEmpty else { return nil }
        var result: [GearmanServerAddress] = []
        for entry in entries {
            guard let address = GearmanServerAddress(String(entry)) else { return nil }
            result.append(address)
        }
        return result
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

private extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
