/// The fast path of SyncPayload: the trigger's payload is a flat JSON object of numbers and
/// plain strings (`{"id": 7, "volume": 12, "version": 3}`), and decoding it with JSONDecoder
/// cost a worker about 2.6 µs a job (5 % of its CPU). This reads that shape only: a nested
/// value, an escape or non-ASCII byte in a string, a fraction or exponent, a literal, a
/// duplicate `id`/`version`, a number out of range or anything malformed gives nil, and
/// JSONDecoder decides (so the answers are JSONDecoder's; a test checks both agree).
enum FlatPayloadScanner {
    static func scan(_ json: [UInt8]) -> SyncPayload? {
        json.withUnsafeBufferPointer { scan($0) }
    }

    private static func scan(_ b: UnsafeBufferPointer<UInt8>) -> SyncPayload? {
        var i = 0
        func skipSpace() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
        /// A string without escapes at i (its opening quote); the range of its bytes.
        func string() -> Range<Int>? {
            guard i < b.count, b[i] == 0x22 else { return nil }
            let start = i + 1
            var j = start
            while j < b.count, b[j] != 0x22 {
                if b[j] == 0x5C || b[j] < 0x20 || b[j] >= 0x80 { return nil }
                j += 1
            }
            guard j < b.count else { return nil }
            i = j + 1
            return start..<j
        }
        /// An integer at i (`-?(0|[1-9][0-9]*)` not followed by `.`/`e`); nil when out of Int64.
        func integer() -> Int64? {
            var j = i
            let negative = j < b.count && b[j] == 0x2D
            if negative { j += 1 }
            let first = j
            var value: Int64 = 0
            while j < b.count, b[j] >= 0x30, b[j] <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.subtractingReportingOverflow(Int64(b[j] - 0x30))
                if o1 || o2 { return nil }
                value = s
                j += 1
            }
            let digits = j - first
            if digits == 0 || (digits > 1 && b[first] == 0x30) { return nil }
            if j < b.count, b[j] == 0x2E || b[j] == 0x65 || b[j] == 0x45 { return nil }
            if !negative {
                if value == Int64.min { return nil }
                value = -value
            }
            i = j
            return value
        }
        func equals(_ r: Range<Int>, _ word: StaticString) -> Bool {
            r.count == word.utf8CodeUnitCount && zip(b[r], UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)).allSatisfy { $0 == $1 }
        }

        skipSpace()
        guard i < b.count, b[i] == 0x7B else { return nil }
        i += 1
        var key: String?
        var version: Int64?
        skipSpace()
        if i < b.count, b[i] == 0x7D { return nil }  // {}: no id, JSONDecoder says so
        while true {
            skipSpace()
            guard let name = string() else { return nil }
            skipSpace()
            guard i < b.count, b[i] == 0x3A else { return nil }
            i += 1
            skipSpace()
            guard i < b.count else { return nil }
            let isID = equals(name, "id"), isVersion = equals(name, "version")
            if b[i] == 0x22 {
                guard let text = string(), !isVersion else { return nil }
                if isID {
                    guard key == nil else { return nil }
                    key = String(decoding: b[text], as: UTF8.self)
                }
            } else if b[i] == 0x2D || (b[i] >= 0x30 && b[i] <= 0x39) {
                guard let n = integer() else { return nil }
                if isID {
                    guard key == nil else { return nil }
                    key = String(n)
                } else if isVersion {
                    guard version == nil else { return nil }
                    version = n
                }
            } else {
                return nil
            }
            skipSpace()
            guard i < b.count else { return nil }
            if b[i] == 0x2C { i += 1; continue }
            guard b[i] == 0x7D else { return nil }
            i += 1
            break
        }
        skipSpace()
        guard i == b.count, let key else { return nil }
        return SyncPayload(key: key, version: version ?? 0)
    }
}
