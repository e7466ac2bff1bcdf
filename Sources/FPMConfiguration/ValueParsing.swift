/// The typed readers for directive values, with php-fpm's messages where it has one.
enum ValueParsing {
    struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// `yes/no/on/off/true/false/1/0/none/""`, case-insensitively.
    static func bool(_ text: String) throws(Failure) -> Bool {
        switch text.lowercased() {
        case "1", "yes", "true", "on": return true
        case "", "0", "no", "none", "false", "off": return false
        default: throw Failure("invalid boolean value")
        }
    }

    /// Digits with an optional leading `-`.
    static func integer(_ text: String) throws(Failure) -> Int {
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw Failure("is not a valid number (greater or equal than zero)")
        }
        guard let value = Int(text) else { throw Failure("is out of range") }
        return value
    }

    static func nonNegativeInteger(_ text: String) throws(Failure) -> Int {
        let value = try integer(text)
        guard value >= 0 else { throw Failure("must be greater or equal than zero") }
        return value
    }

    /// An integer with an optional `s` (default), `m`, `h` or `d` suffix, in seconds. Negative values
    /// are refused (php-fpm accepts and ignores them).
    static func seconds(_ text: String) throws(Failure) -> Int {
        guard let last = text.utf8.last else { throw Failure("invalid time value") }
        var number = Substring(text)
        var multiplier = 1
        if !(last >= 0x30 && last <= 0x39) {
            switch last {
            case UInt8(ascii: "s"): multiplier = 1
            case UInt8(ascii: "m"): multiplier = 60
            case UInt8(ascii: "h"): multiplier = 3600
            case UInt8(ascii: "d"): multiplier = 86400
            default: throw Failure("unknown suffix used in time value")
            }
            number = number.dropLast()
        }
        let digits = number.hasPrefix("-") ? number.dropFirst() : number
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw Failure("invalid time value")
        }
        guard let value = Int(number) else { throw Failure("is out of range") }
        guard value >= 0 else { throw Failure("must not be negative") }
        let (total, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow, total <= Int(Int32.max) else { throw Failure("is out of range") }
        return total
    }

    /// A time in milliseconds: `ms`, or `seconds`' forms (no suffix: seconds, as php-fpm's time
    /// values). Negative values are refused.
    static func milliseconds(_ text: String) throws(Failure) -> Int {
        guard text.hasSuffix("ms") else {
            let seconds = try seconds(text)
            return seconds * 1000
        }
        let number = text.dropLast(2)
        guard !number.isEmpty, number.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw Failure("invalid time value")
        }
        guard let value = Int(number), value <= Int(Int32.max) else { throw Failure("is out of range") }
        return value
    }

    /// Milliseconds as written back: whole seconds (or larger units) when exact, else `ms`.
    static func renderMilliseconds(_ value: Int) -> String {
        value % 1000 == 0 ? renderSeconds(value / 1000) : "\(value)ms"
    }

    /// A size in bytes, as php.ini writes sizes: digits with an optional `K`, `M` or `G`
    /// (case-insensitive, powers of 1024). Negative values are refused.
    static func bytes(_ text: String) throws(Failure) -> Int {
        guard let last = text.utf8.last else { throw Failure("invalid size value") }
        var number = Substring(text)
        var multiplier = 1
        if !(last >= 0x30 && last <= 0x39) {
            switch last | 0x20 {
            case UInt8(ascii: "k"): multiplier = 1 << 10
            case UInt8(ascii: "m"): multiplier = 1 << 20
            case UInt8(ascii: "g"): multiplier = 1 << 30
            default: throw Failure("unknown suffix used in size value (K, M or G)")
            }
            number = number.dropLast()
        }
        guard !number.isEmpty, number.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw Failure("invalid size value")
        }
        guard let value = Int(number) else { throw Failure("is out of range") }
        let (total, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw Failure("is out of range") }
        return total
    }

    /// A size as written back: the largest unit that divides it exactly.
    static func renderBytes(_ value: Int) -> String {
        if value == 0 { return "0" }
        for (unit, size) in [("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)] where value % size == 0 {
            return "\(value / size)\(unit)"
        }
        return String(value)
    }

    /// A time in seconds as written back: the largest unit that divides it exactly.
    static func renderSeconds(_ value: Int) -> String {
        if value == 0 { return "0s" }
        if value % 86400 == 0 { return "\(value / 86400)d" }
        if value % 3600 == 0 { return "\(value / 3600)h" }
        if value % 60 == 0 { return "\(value / 60)m" }
        return "\(value)s"
    }

    /// An octal file mode (`0660`).
    static func octalMode(_ text: String) throws(Failure) -> UInt32 {
        guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x37 }),
            let value = UInt32(text, radix: 8), value <= 0o7777
        else { throw Failure("is not a valid octal mode (e.g. 0660)") }
        return value
    }

    static func renderOctal(_ value: UInt32) -> String {
        let digits = String(value, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `unlimited`, or an integer ≥ 0.
    static func rlimit(_ text: String, allowUnlimited: Bool) throws(Failure) -> RLimitValue {
        if allowUnlimited, text.lowercased() == "unlimited" { return .unlimited }
        let value: Int
        do { value = try integer(text) } catch { throw Failure(allowUnlimited ? "must be greater than zero or 'unlimited'" : error.message) }
        guard value >= 0 else {
            throw Failure(allowUnlimited ? "must be greater than zero or 'unlimited'" : "must be greater or equal than zero")
        }
        return .limit(value)
    }

    /// Shell-like splitting for `exec`: spaces and tabs separate words, `'…'` is literal,
    /// `"…"` keeps spaces (with `\"` and `\\` escapes), a backslash outside quotes escapes the next character.
    static func words(_ text: String) throws(Failure) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = Array(text.unicodeScalars).makeIterator()
        while let scalar = iterator.next() {
            switch scalar {
            case " ", "\t":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "'" { closed = true; break }
                    current.unicodeScalars.append(next)
                }
                if !closed { throw Failure("unterminated ' in the command line") }
            case "\"":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "\"" { closed = true; break }
                    if next == "\\" {
                        guard let escaped = iterator.next() else { break }
                        if escaped != "\"" && escaped != "\\" { current.unicodeScalars.append(next) }
                        current.unicodeScalars.append(escaped)
                        continue
                    }
                    current.unicodeScalars.append(next)
                }
                if !closed { throw Failure("unterminated \" in the command line") }
            case "\\":
                inWord = true
                guard let escaped = iterator.next() else { throw Failure("trailing '\\' in the command line") }
                current.unicodeScalars.append(escaped)
            default:
                inWord = true
                current.unicodeScalars.append(scalar)
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// The inverse of `words`: each word bare when it is plain, else single-quoted (a `'` as `'\''`).
    static func renderWords(_ words: [String]) -> String {
        words.map { word -> String in
            let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { scalar in
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "/._-+=:,@%".unicodeScalars.contains(scalar)
            }
            if plain { return word }
            return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        }.joined(separator: " ")
    }

    /// A value written back so that `INILexer` reads exactly `value`: bare when that is safe,
    /// otherwise single-quoted, with any `'` as a double-quoted `"'"` segment.
    static func renderString(_ value: String) -> String {
        if value.isEmpty { return "\"\"" }
        let unsafe: Set<UInt8> = Set(";\"'$=!~&|^()[]#\\".utf8)
        let bytes = Array(value.utf8)
        let plain = !bytes.contains { $0 < 0x20 || $0 == 0x7F || unsafe.contains($0) }
            && bytes.first != UInt8(ascii: " ") && bytes.last != UInt8(ascii: " ")
        if plain { return value }
        var result = ""
        var run = ""
        for character in value.unicodeScalars {
            if character == "'" {
                if !run.isEmpty { result += "'" + run + "'"; run = "" }
                result += "\"'\""
            } else {
                run.unicodeScalars.append(character)
            }
        }
        if !run.isEmpty { result += "'" + run + "'" }
        return result
    }
}
