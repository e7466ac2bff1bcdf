import FoundationEssentials

/// A cookie to set on the client, rendered as one `Set-Cookie` value (RFC 6265).
///
/// Every part is checked when the header is made (``headerValue()``), so text taken from a
/// request can never add attributes or split the header: a value such as
/// `x; Max-Age=0; Domain=evil.example` is refused, not sent.
///
/// Values are **refused, not encoded**: a value must be cookie-octets (printable ASCII except
/// space, `"`, `,`, `;` and `\`), optionally in double quotes. ``Cookies`` (the request side)
/// returns values exactly as sent, so what an app sets is what it reads back; an app storing
/// arbitrary text encodes it first (base64url or percent-encoding) and decodes it on read.
public struct Cookie: Equatable, Sendable {
    /// The `SameSite` attribute.
    public enum SameSite: String, Equatable, Sendable {
        case strict = "Strict"
        case lax = "Lax"
        /// `SameSite=None`: sent cross-site too; browsers require ``Cookie/secure`` with it.
        /// (Not `.none`, which as an optional argument would read as "no attribute".)
        case crossSite = "None"
    }

    /// A token (RFC 7230 `tchar`s): letters, digits and ``!#$%&'*+-.^_`|~``.
    public var name: String
    /// Cookie-octets, optionally between double quotes; may be empty.
    public var value: String
    /// `Max-Age` in seconds; 0 deletes the cookie. Negative values are refused.
    public var maxAge: Int?
    /// `Expires`, sent as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`); years 1601…9999.
    public var expires: Date?
    /// `Domain`: a host name (letters, digits, `-` and `.`; a leading `.` is allowed).
    public var domain: String?
    /// `Path`: starts with `/`; printable ASCII without `;`.
    public var path: String?
    /// `Secure`: sent over HTTPS only.
    public var secure: Bool
    /// `HttpOnly`: not visible to the page's scripts.
    public var httpOnly: Bool
    /// `SameSite`; nil sends none (the browser's default applies).
    public var sameSite: SameSite?

    public init(_ name: String, _ value: String, maxAge: Int? = nil, expires: Date? = nil, domain: String? = nil,
                path: String? = "/", secure: Bool = false, httpOnly: Bool = true, sameSite: SameSite? = nil) {
        self.name = name
        self.value = value
        self.maxAge = maxAge
        self.expires = expires
        self.domain = domain
        self.path = path
        self.secure = secure
        self.httpOnly = httpOnly
        self.sameSite = sameSite
    }

    /// The `Set-Cookie` value (`name=value; Path=/; HttpOnly`), or a ``CookieError`` naming
    /// the part that is not allowed.
    public func headerValue() throws(CookieError) -> String {
        func refuse(_ part: String, _ why: String) -> CookieError {
            CookieError(cookie: name, part: part, description: "cookie '\(Self.printable(name))': \(why)")
        }
        guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
            throw refuse("name", "the name must be a token (letters, digits and !#$%&'*+-.^_`|~)")
        }
        guard Self.isCookieValue(value) else {
            throw refuse("value", "the value '\(Self.printable(value))' may hold only printable ASCII other than space, '\"', ',', ';' and '\\' (encode it first)")
        }
        var text = name + "=" + value
        if let maxAge {
            guard maxAge >= 0 else { throw refuse("Max-Age", "Max-Age must not be negative (0 deletes the cookie)") }
            text += "; Max-Age=\(maxAge)"
        }
        if let expires {
            guard let date = HTTPDate.format(expires) else { throw refuse("Expires", "Expires must fall in the years 1601 to 9999") }
            text += "; Expires=" + date
        }
        if let domain {
            guard Self.isDomain(domain) else {
                throw refuse("Domain", "the domain '\(Self.printable(domain))' must be a host name (letters, digits, '-' and '.')")
            }
            text += "; Domain=" + domain
        }
        if let path {
            guard path.hasPrefix("/"), path.utf8.allSatisfy({ (0x20...0x7E).contains($0) && $0 != UInt8(ascii: ";") }) else {
                throw refuse("Path", "the path '\(Self.printable(path))' must start with '/' and hold only printable ASCII other than ';'")
            }
            text += "; Path=" + path
        }
        if sameSite == .crossSite && !secure {
            throw refuse("SameSite", "SameSite=None needs secure: true (browsers drop it otherwise)")
        }
        // The prefixes browsers enforce: refusing here beats a cookie silently dropped.
        if name.hasPrefix("__Secure-") || name.hasPrefix("__Host-") {
            guard secure else { throw refuse("Secure", "a '__Secure-' or '__Host-' cookie needs secure: true") }
            if name.hasPrefix("__Host-") && (domain != nil || path != "/") {
                throw refuse("Domain", "a '__Host-' cookie needs path \"/\" and no domain")
            }
        }
        if secure { text += "; Secure" }
        if httpOnly { text += "; HttpOnly" }
        if let sameSite { text += "; SameSite=" + sameSite.rawValue }
        return text
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// RFC 6265 `cookie-octet`: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
    static func isCookieOctet(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: ",")
            && byte != UInt8(ascii: ";") && byte != UInt8(ascii: "\\")
    }

    static func isCookieValue(_ value: String) -> Bool {
        var bytes = Substring(value).utf8
        if bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") {
            bytes = bytes.dropFirst().dropLast()
        }
        return bytes.allSatisfy(isCookieOctet)
    }

    static func isDomain(_ domain: String) -> Bool {
        let labels = (domain.hasPrefix(".") ? domain.dropFirst() : Substring(domain)).split(separator: ".", omittingEmptySubsequences: false)
        return domain.utf8.count <= 255 && labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                    return true
                default:
                    return false
                }
            }
        }
    }

    /// Text for an error message: control characters shown as `\u{…}`, long text cut.
    static func printable(_ text: String) -> String {
        let cut = text.unicodeScalars.prefix(80)
        var out = ""
        for scalar in cut {
            if scalar.value < 0x20 || scalar.value == 0x7F { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
        }
        return cut.count < text.unicodeScalars.count ? out + "…" : out
    }
}

/// A cookie ``Response/setCookie(_:_:maxAge:expires:domain:path:secure:httpOnly:sameSite:)``
/// refused: `part` names what is wrong (`name`, `value`, `Max-Age`, `Expires`, `Domain`,
/// `Path`, `Secure`, `SameSite`), `description` says why.
public struct CookieError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The cookie's name, as given.
    public let cookie: String
    /// The refused part.
    public let part: String
    public let description: String
}

/// IMF-fixdate (RFC 9110 §5.6.7), computed from the Unix time: no formatter, no locale.
enum HTTPDate {
    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ date: Date) -> String? {
        let interval = date.timeIntervalSince1970.rounded(.down)
        guard interval.isFinite, abs(interval) < 1e12 else { return nil }
        let seconds = Int(interval)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(daysSinceEpoch: days)
        guard (1601...9999).contains(year) else { return nil }
        let weekday = weekdays[((days % 7) + 7) % 7]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }

    /// The proleptic Gregorian date `days` after 1970-01-01, counted in 400-year eras
    /// (146,097 days each) starting on March 1st, so the leap day falls at an era-year's end.
    static func civil(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468  // days from 0000-03-01 to 1970-01-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153  // 0 = March
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (era * 400 + yearOfEra + (month <= 2 ? 1 : 0), month, day)
    }
}
