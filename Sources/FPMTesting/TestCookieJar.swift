import FoundationEssentials

/// The cookies a ``TestClient`` keeps between calls, as a browser would for one site: set by a
/// response's `Set-Cookie`, sent back in `Cookie` on later requests whose path they cover.
///
/// Enough of RFC 6265 for tests of an app: `Path` (default: the directory of the request's
/// path), `Max-Age` and `Expires` (a cookie whose life is over is removed, `Max-Age` winning),
/// a cookie replaced by name and path. `Domain`, `Secure` and `SameSite` are kept as written but
/// not enforced: every request of a test goes to the same host.
public struct TestCookieJar: Sendable {
    /// One kept cookie.
    public struct Cookie: Sendable, Equatable {
        public var name: String
        public var value: String
        /// The path it is sent for (and below).
        public var path: String
        /// When it expires; nil for a session cookie (kept until ``TestCookieJar/clear()``).
        public var expires: Date?
    }

    /// Every cookie kept, in the order first set.
    public private(set) var all: [Cookie] = []

    public init() {}

    /// The value of the cookie `name` (any path), if kept and not expired.
    public subscript(_ name: String) -> String? {
        all.first { $0.name == name && !Self.isExpired($0, now: Date()) }?.value
    }

    /// Sets a cookie as if a response had (replacing one of the same name and path).
    public mutating func set(_ name: String, _ value: String, path: String = "/", expires: Date? = nil) {
        store(Cookie(name: name, value: value, path: path, expires: expires))
    }

    /// Removes the cookie `name` (every path).
    public mutating func remove(_ name: String) { all.removeAll { $0.name == name } }

    /// Removes every cookie (a new browser session).
    public mutating func clear() { all.removeAll() }

    /// The `Cookie` header value for a request to `path` (nil when none applies): longer paths
    /// first, as browsers order them.
    public func header(for path: String, now: Date = Date()) -> String? {
        let sent = all.filter { !Self.isExpired($0, now: now) && Self.pathMatches($0.path, path) }
            .enumerated().sorted { ($0.element.path.count, -$0.offset) > ($1.element.path.count, -$1.offset) }
            .map { "\($0.element.name)=\($0.element.value)" }
        return sent.isEmpty ? nil : sent.joined(separator: "; ")
    }

    /// Takes in one `Set-Cookie` value received for a request to `requestPath`.
    public mutating func receive(_ setCookie: String, requestPath: String, now: Date = Date()) {
        let parts = setCookie.split(separator: ";", omittingEmptySubsequences: false)
        guard let first = parts.first, let equals = first.firstIndex(of: "=") else { return }
        let name = first[..<equals].trimmingSpaces(), value = first[first.index(after: equals)...].trimmingSpaces()
        guard !name.isEmpty else { return }
        var path: String? = nil, maxAge: Int? = nil, expires: Date? = nil
        for attribute in parts.dropFirst() {
            let pieces = attribute.split(separator: "=", maxSplits: 1)
            guard let key = pieces.first?.trimmingSpaces().lowercased() else { continue }
            let argument = pieces.count > 1 ? pieces[1].trimmingSpaces() : ""
            switch key {
            case "path": path = argument.hasPrefix("/") ? argument : nil
            case "max-age": maxAge = Int(argument)
            case "expires": expires = HTTPDate.parse(argument)
            default: break
            }
        }
        if let maxAge { expires = maxAge <= 0 ? Date(timeIntervalSince1970: 0) : now.addingTimeInterval(Double(maxAge)) }
        let cookie = Cookie(name: name, value: value, path: path ?? Self.defaultPath(requestPath), expires: expires)
        if Self.isExpired(cookie, now: now) {
            all.removeAll { $0.name == cookie.name && $0.path == cookie.path }
        } else {
            store(cookie)
        }
    }

    mutating func store(_ cookie: Cookie) {
        if let index = all.firstIndex(where: { $0.name == cookie.name && $0.path == cookie.path }) {
            all[index] = cookie
        } else {
            all.append(cookie)
        }
    }

    static func isExpired(_ cookie: Cookie, now: Date) -> Bool { cookie.expires.map { $0 <= now } ?? false }

    /// RFC 6265 §5.1.4: equal, or a prefix ending at a `/`.
    static func pathMatches(_ cookiePath: String, _ requestPath: String) -> Bool {
        if requestPath == cookiePath { return true }
        guard requestPath.hasPrefix(cookiePath) else { return false }
        return cookiePath.hasSuffix("/") || requestPath.dropFirst(cookiePath.count).hasPrefix("/")
    }

    /// RFC 6265 §5.1.4: the request path up to its last `/` (`/` when that is the first).
    static func defaultPath(_ requestPath: String) -> String {
        guard requestPath.hasPrefix("/"), let last = requestPath.lastIndex(of: "/"), last != requestPath.startIndex else { return "/" }
        return String(requestPath[..<last])
    }
}

/// The IMF-fixdate of `Expires` (`Sun, 06 Nov 1994 08:49:37 GMT`), the form `FPM.Cookie` and
/// every current server write.
enum HTTPDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parse(_ text: String) -> Date? {
        let words = text.split(separator: " ")
        guard words.count == 6, let day = Int(words[1]), let year = Int(words[3]),
              let month = months.firstIndex(of: words[2].lowercased()) else { return nil }
        let clock = words[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        let seconds = daysFromCivil(year: year, month: month + 1, day: day) * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2]
        return Date(timeIntervalSince1970: Double(seconds))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
