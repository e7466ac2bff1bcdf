/// Reads one physical line of php-fpm's INI dialect.
///
/// The rules (php-fpm's, with the few deliberate differences noted):
/// - a line is blank, a comment (`;` or `#` first), a `[section]`, or `name = value`,
///   where the name may carry an array key: `env[FOO]`, `access.suppress_path[]`;
/// - a value is a run of segments: bare text (trimmed, ends at `;`), `"double quoted"` (keeps `;`
///   and spaces; `\"`, `\\` and `\$` are escapes) and `'single quoted'` (literal); segments are
///   concatenated, whitespace between them dropped;
/// - `${NAME}` in bare and double-quoted text is replaced from the given environment (unset → empty),
///   then `$pool` by the pool name; single-quoted text is never expanded (php-fpm expands `$pool`
///   even there — ours lets a value hold a literal `$pool`);
/// - bare text may not contain the INI operators `= ! ~ & | ^ ( )`, as in php-fpm, except in the
///   values of `php_*[…]` directives, where php.ini expressions such as `E_ALL & ~E_NOTICE` are
///   kept as text (they are never evaluated: swift-fpm ignores those directives);
/// - a quote must close on its line.
enum INILexer {
    enum Line: Equatable {
        case blank
        case section(String)
        case assignment(Assignment)
        /// A syntax error; `directive` when the line got as far as a name.
        case failure(directive: String?, message: String)
    }

    struct Assignment: Equatable {
        /// Lower-cased directive name without the array key.
        var name: String
        /// nil: no brackets; "": `name[]`; else the key as written.
        var key: String?
        /// The value after quoting, concatenation and expansion.
        var value: String
        /// The value began with an unquoted, unescaped `$` (for `env[X] = $VAR`).
        var startsWithVariable: Bool

        /// The name as written back in messages: `env[FOO]`, `access.suppress_path[]`, `pm`.
        var displayName: String {
            guard let key else { return name }
            return "\(name)[\(key)]"
        }
    }

    /// What `$pool` means on this line: the pool's name, or nil in `[global]` (where it is an error).
    struct Context {
        var environment: [String: String]
        var poolName: String?
    }

    private static let semicolon = UInt8(ascii: ";")
    private static let hash = UInt8(ascii: "#")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let cr = UInt8(ascii: "\r")
    private static let doubleQuote = UInt8(ascii: "\"")
    private static let singleQuote = UInt8(ascii: "'")
    private static let backslash = UInt8(ascii: "\\")
    private static let dollar = UInt8(ascii: "$")
    private static let equals = UInt8(ascii: "=")
    private static let operators: Set<UInt8> = Set("=!~&|^()".utf8)

    /// Splits a file's bytes into lines (LF, with an optional CR before it).
    static func lines(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            result.append(stripCR(bytes[start..<index]))
            start = index + 1
        }
        if start < bytes.endIndex { result.append(stripCR(bytes[start...])) }
        return result
    }

    private static func stripCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == cr ? line.dropLast() : line
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == space || byte == tab || byte == cr }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isBlank(first) { slice = slice.dropFirst() }
        while let last = slice.last, isBlank(last) { slice = slice.dropLast() }
        return slice
    }

    static func parse(_ raw: ArraySlice<UInt8>, context: Context) -> Line {
        let line = trimmed(raw)
        guard let first = line.first else { return .blank }
        if first == semicolon || first == hash { return .blank }
        if first == UInt8(ascii: "[") { return parseSection(line) }
        guard let equalsIndex = line.firstIndex(of: equals) else {
            let name = String(decoding: line, as: UTF8.self)
            return .failure(directive: nil, message: "syntax error: expected 'directive = value' but found '\(name)'")
        }
        let nameBytes = trimmed(line[line.startIndex..<equalsIndex])
        let (name, key, nameError) = parseName(nameBytes)
        if let nameError { return .failure(directive: nil, message: nameError) }
        var assignment = Assignment(name: name, key: key, value: "", startsWithVariable: false)
        let allowOperators = name.hasPrefix("php_")
        switch parseValue(line[(equalsIndex + 1)...], context: context, allowOperators: allowOperators) {
        case .success(let (value, startsWithVariable)):
            assignment.value = value
            assignment.startsWithVariable = startsWithVariable
            return .assignment(assignment)
        case .failure(let error):
            return .failure(directive: assignment.displayName, message: error.message)
        }
    }

    private static func parseSection(_ line: ArraySlice<UInt8>) -> Line {
        guard let close = line.firstIndex(of: UInt8(ascii: "]")) else {
            return .failure(directive: nil, message: "syntax error: section header without ']'")
        }
        let rest = trimmed(line[(close + 1)...])
        if let next = rest.first, next != semicolon {
            return .failure(
                directive: nil,
                message: "syntax error: unexpected '\(String(decoding: rest, as: UTF8.self))' after the section header")
        }
        let name = trimmed(line[(line.startIndex + 1)..<close])
        return .section(String(decoding: name, as: UTF8.self))
    }

    private static func parseName(_ bytes: ArraySlice<UInt8>) -> (String, String?, String?) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard !bytes.isEmpty else { return ("", nil, "syntax error: a value without a directive name") }
        var base = bytes
        var key: String? = nil
        if let open = bytes.firstIndex(of: UInt8(ascii: "[")) {
            guard bytes.last == UInt8(ascii: "]"), let close = bytes.lastIndex(of: UInt8(ascii: "]")), close > open else {
                return ("", nil, "syntax error: malformed array directive '\(text)'")
            }
            base = trimmed(bytes[bytes.startIndex..<open])
            key = String(decoding: trimmed(bytes[(open + 1)..<close]), as: UTF8.self)
        }
        let invalid = base.isEmpty || base.contains { byte in
            isBlank(byte) || byte == doubleQuote || byte == singleQuote || byte == semicolon || byte == UInt8(ascii: "[")
                || byte == UInt8(ascii: "]") || operators.contains(byte) || byte == dollar
        }
        if invalid { return ("", nil, "syntax error: invalid directive name '\(text)'") }
        return (String(decoding: base, as: UTF8.self).lowercased(), key, nil)
    }

    struct ValueError: Error {
        var message: String
    }

    private static func parseValue(
        _ bytes: ArraySlice<UInt8>, context: Context, allowOperators: Bool
    ) -> Result<(String, Bool), ValueError> {
        var output: [UInt8] = []
        var startsWithVariable: Bool? = nil
        var index = bytes.startIndex
        let end = bytes.endIndex

        func noteStart(protected: Bool) {
            if startsWithVariable == nil, !output.isEmpty {
                startsWithVariable = !protected && output.first == dollar
            }
        }

        while index < end {
            let byte = bytes[index]
            if isBlank(byte) {
                index += 1
                continue
            }
            if byte == semicolon { break }
            if byte == singleQuote {
                guard let close = bytes[(index + 1)...].firstIndex(of: singleQuote) else {
                    return .failure(ValueError(message: "syntax error: unterminated single-quoted value (a quoted value cannot span lines)"))
                }
                let wasEmpty = output.isEmpty
                output.append(contentsOf: bytes[(index + 1)..<close])
                if wasEmpty { noteStart(protected: true) }
                index = close + 1
                continue
            }
            if byte == doubleQuote {
                var segment: [UInt8] = []
                var protectedPositions: Set<Int> = []
                var cursor = index + 1
                var closed = false
                while cursor < end {
                    let current = bytes[cursor]
                    if current == doubleQuote {
                        closed = true
                        break
                    }
                    if current == backslash, cursor + 1 < end {
                        let next = bytes[cursor + 1]
                        if next == doubleQuote || next == backslash || next == dollar {
                            protectedPositions.insert(segment.count)
                            segment.append(next)
                            cursor += 2
                            continue
                        }
                    }
                    segment.append(current)
                    cursor += 1
                }
                guard closed else {
                    return .failure(ValueError(message: "syntax error: unterminated double-quoted value (a quoted value cannot span lines)"))
                }
                let wasEmpty = output.isEmpty
                switch expand(segment, protected: protectedPositions, context: context) {
                case .success(let expanded): output.append(contentsOf: expanded)
                case .failure(let error): return .failure(error)
                }
                if wasEmpty { noteStart(protected: protectedPositions.contains(0)) }
                index = cursor + 1
                continue
            }
            // Bare text: up to a quote or a comment.
            var cursor = index
            while cursor < end {
                let current = bytes[cursor]
                if current == semicolon || current == doubleQuote || current == singleQuote { break }
                if !allowOperators, operators.contains(current) {
                    return .failure(ValueError(message: "syntax error, unexpected '\(Character(Unicode.Scalar(current)))' (quote the value)"))
                }
                cursor += 1
            }
            let segment = Array(trimmed(bytes[index..<cursor]))
            let wasEmpty = output.isEmpty
            switch expand(segment, protected: [], context: context) {
            case .success(let expanded): output.append(contentsOf: expanded)
            case .failure(let error): return .failure(error)
            }
            if wasEmpty { noteStart(protected: false) }
            index = cursor
        }
        return .success((String(decoding: output, as: UTF8.self), startsWithVariable ?? false))
    }

    private static let poolToken = Array("$pool".utf8)

    /// `${NAME}` from the environment, then `$pool`; positions in `protected` are escaped `$`s.
    private static func expand(
        _ segment: [UInt8], protected: Set<Int>, context: Context
    ) -> Result<[UInt8], ValueError> {
        guard segment.contains(dollar) else { return .success(segment) }
        var result: [UInt8] = []
        var index = 0
        while index < segment.count {
            let byte = segment[index]
            guard byte == dollar, !protected.contains(index) else {
                result.append(byte)
                index += 1
                continue
            }
            if index + 1 < segment.count, segment[index + 1] == UInt8(ascii: "{"),
                let close = segment[(index + 2)...].firstIndex(of: UInt8(ascii: "}"))
            {
                let name = String(decoding: segment[(index + 2)..<close], as: UTF8.self)
                if let value = context.environment[name] { result.append(contentsOf: value.utf8) }
                index = close + 1
                continue
            }
            if segment.count - index >= poolToken.count, Array(segment[index..<(index + poolToken.count)]) == poolToken {
                guard let pool = context.poolName else {
                    return .failure(ValueError(message: "can't use '$pool' when the pool is not defined"))
                }
                result.append(contentsOf: pool.utf8)
                index += poolToken.count
                continue
            }
            result.append(byte)
            index += 1
        }
        return .success(result)
    }
}
