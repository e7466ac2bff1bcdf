/// Where a FastCGI application listens, written as php-fpm's `listen` directive writes it:
/// `127.0.0.1:9000`, `[::1]:9000`, `localhost:9000`, `*:9000`, `9000` (every address),
/// `/run/php.sock`, `./rel.sock` or `unix:/run/php.sock`.
public struct FastCGIAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A TCP endpoint. `host` is nil for "every address" (`9000`, `*:9000`); a client then
        /// connects to the loopback address.
        case tcp(host: String?, port: UInt16)
        case unix(path: String)
    }

    public var kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public static func tcp(_ host: String?, _ port: UInt16) -> FastCGIAddress { .init(.tcp(host: host, port: port)) }
    public static func unix(_ path: String) -> FastCGIAddress { .init(.unix(path: path)) }

    /// Parses an address; nil when it is none of the accepted forms (or a port is out of range).
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            kind = .unix(path: path)
            return
        }
        if text.hasPrefix("/") || text.hasPrefix("./") || text.hasPrefix("../") {
            kind = .unix(path: text)
            return
        }
        if let port = Self.port(text[...]) {
            kind = .tcp(host: nil, port: port)
            return
        }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard !host.isEmpty, rest.first == ":", let port = Self.port(rest.dropFirst()) else { return nil }
            kind = .tcp(host: String(host), port: port)
            return
        }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = text[..<colon]
        guard !host.isEmpty, !host.contains(":"), let port = Self.port(text[text.index(after: colon)...]) else {
            return nil
        }
        kind = .tcp(host: host == "*" ? nil : String(host), port: port)
    }

    private static func port(_ s: Substring) -> UInt16? {
        guard !s.isEmpty, s.count <= 5, s.allSatisfy({ $0 >= "0" && $0 <= "9" }), let p = Int(s),
              p > 0, p <= 65535 else { return nil }
        return UInt16(p)
    }

    /// The host a client connects to: the given host, or loopback for "every address".
    public var connectHost: String? {
        if case .tcp(let host, _) = kind { return host ?? "127.0.0.1" }
        return nil
    }

    public var description: String {
        switch kind {
        case .tcp(let host?, let port) where host.contains(":"): return "[\(host)]:\(port)"
        case .tcp(let host?, let port): return "\(host):\(port)"
        case .tcp(nil, let port): return "\(port)"
        case .unix(let path): return path.hasPrefix("/") || path.hasPrefix(".") ? path : "unix:\(path)"
        }
    }
}
