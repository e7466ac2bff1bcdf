/// A `listen` (or `pm.status_listen`) address.
///
/// php-fpm's rule: the value is TCP when it contains `:` or is all digits, a unix socket path
/// otherwise. `port` alone means every address (dual-stack `::`, falling back to `0.0.0.0`),
/// stored as host `""`. IPv6 hosts are written in brackets, `[::1]:9000`, and stored without them.
public enum ListenAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Why a listen value was refused.
    public enum ParseError: Error, Sendable, Equatable {
        case empty
        case invalidPort(String)
        case invalidHost(String)

        public var message: String {
            switch self {
            case .empty: "no listen address given"
            case .invalidPort(let port): "invalid port value '\(port)' (1-65535)"
            case .invalidHost(let host): "invalid host '\(host)'"
            }
        }
    }

    /// Parses a listen value. Relative unix paths are returned as written; see `resolved(against:)`.
    public static func parse(_ text: String) throws(ParseError) -> ListenAddress {
        guard !text.isEmpty else { throw .empty }
        let isAllDigits = text.allSatisfy { $0.isASCII && $0.isNumber }
        if isAllDigits {
            return .tcp(host: "", port: try port(text))
        }
        guard let colon = text.lastIndex(of: ":") else {
            return .unix(path: text)
        }
        var host = String(text[..<colon])
        let portText = String(text[text.index(after: colon)...])
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count >= 2 else { throw .invalidHost(host) }
            host = String(host.dropFirst().dropLast())
            guard host.contains(":") else { throw .invalidHost("[\(host)]") }
        } else if host.contains("[") || host.contains("]") {
            throw .invalidHost(host)
        }
        if host.contains(where: { $0 == " " || $0 == "\t" || $0 == "/" }) {
            throw .invalidHost(host)
        }
        return .tcp(host: host, port: try port(portText))
    }

    private static func port(_ text: String) throws(ParseError) -> Int {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(text), (1...65535).contains(value)
        else { throw .invalidPort(text) }
        return value
    }

    /// The same address with a relative unix path made absolute against `prefix`.
    public func resolved(against prefix: String?) -> ListenAddress {
        guard case .unix(let path) = self, let prefix else { return self }
        return .unix(path: PathResolution.resolve(path, against: prefix))
    }

    /// The configuration string: `9000`, `127.0.0.1:9000`, `[::1]:9000` or `/run/fpm.sock`.
    public var description: String {
        switch self {
        case .unix(let path): return path
        case .tcp(let host, let port):
            if host.isEmpty { return String(port) }
            if host.contains(":") { return "[\(host)]:\(port)" }
            return "\(host):\(port)"
        }
    }
}

/// How relative paths in a configuration are made absolute.
enum PathResolution {
    static func resolve(_ path: String, against prefix: String?) -> String {
        guard let prefix, !prefix.isEmpty, !path.hasPrefix("/") else { return path }
        if prefix.hasSuffix("/") { return prefix + path }
        return prefix + "/" + path
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}
