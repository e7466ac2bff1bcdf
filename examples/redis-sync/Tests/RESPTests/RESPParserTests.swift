import Testing
@testable import RESP

/// The reply parser: every RESP2 type, any split of the bytes, and the limits that keep a
/// wrong or hostile server from making it allocate or loop.
@Suite struct RESPParserTests {
    static let replies: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("-NOSCRIPT No matching script\r\n", .error("NOSCRIPT No matching script")),
        (":0\r\n", .integer(0)),
        (":-42\r\n", .integer(-42)),
        (":9223372036854775807\r\n", .integer(Int64.max)),
        ("$5\r\nhello\r\n", .bulkString(Array("hello".utf8))),
        ("$0\r\n\r\n", .bulkString([])),
        ("$-1\r\n", .bulkString(nil)),
        ("$4\r\na\r\nb\r\n", .bulkString(Array("a\r\nb".utf8))),
        ("*-1\r\n", .array(nil)),
        ("*0\r\n", .array([])),
        ("*3\r\n:1\r\n$1\r\nx\r\n*1\r\n+y\r\n", .array([.integer(1), .bulkString([120]), .array([.simpleString("y")])])),
    ]

    @Test func everyTypeWhole() throws {
        for (wire, value) in Self.replies {
            var parser = RESPParser()
            parser.append(Array(wire.utf8))
            #expect(try parser.next() == value, "\(wire.debugDescription)")
            #expect(try parser.next() == nil)
            #expect(parser.bufferedCount == 0)
        }
    }

    /// Fed one byte at a time, each reply appears exactly when its last byte arrives.
    @Test func everySplit() throws {
        let wire = Self.replies.map(\.0).joined()
        var parser = RESPParser()
        var got: [RESPValue] = []
        for byte in Array(wire.utf8) {
            parser.append([byte])
            while let value = try parser.next() { got.append(value) }
        }
        #expect(got == Self.replies.map(\.1))
    }

    @Test func incompleteConsumesNothing() throws {
        var parser = RESPParser()
        parser.append(Array("*2\r\n:1\r\n$3\r\nab".utf8))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedCount == 14)
        parser.append(Array("c\r\n".utf8))
        #expect(try parser.next() == .array([.integer(1), .bulkString(Array("abc".utf8))]))
    }

    @Test(arguments: [
        "?what\r\n", ":12a\r\n", ":\r\n", ":99999999999999999999\r\n", "$-2\r\n", "*-5\r\n",
        "$3\r\nabcXY", "+OK\n", "$x\r\n",
    ])
    func garbageIsAProtocolError(_ wire: String) {
        var parser = RESPParser()
        parser.append(Array(wire.utf8))
        #expect(throws: RESPError.self) { _ = try parser.next() }
    }

    @Test func limits() throws {
        var limits = RESPParser.Limits()
        limits.maxLineLength = 8
        limits.maxBulkLength = 4
        limits.maxArrayCount = 2
        limits.maxDepth = 2
        for wire in ["+0123456789", "$5\r\n", "*3\r\n", "*1\r\n*1\r\n*1\r\n:1\r\n"] {
            var parser = RESPParser(limits: limits)
            parser.append(Array(wire.utf8))
            #expect {
                _ = try parser.next()
            } throws: { error in
                if case .tooLarge = error as? RESPError { return true }
                return false
            }
        }
        // At the limits: fine.
        var parser = RESPParser(limits: limits)
        parser.append(Array("+01234567\r\n$4\r\nabcd\r\n*2\r\n*1\r\n:1\r\n:2\r\n".utf8))
        #expect(try parser.next() == .simpleString("01234567"))
        #expect(try parser.next() == .bulkString(Array("abcd".utf8)))
        #expect(try parser.next() == .array([.array([.integer(1)]), .integer(2)]))
    }

    /// A big reply arriving in chunks, after many consumed replies: the buffer is compacted.
    @Test func manyRepliesThenABigOne() throws {
        var parser = RESPParser()
        for i in 0..<10_000 {
            parser.append(Array(":\(i)\r\n".utf8))
            #expect(try parser.next() == .integer(Int64(i)))
        }
        let big = [UInt8](repeating: 65, count: 100_000)
        let wire = Array("$100000\r\n".utf8) + big + [13, 10]
        var got: RESPValue?
        for chunk in stride(from: 0, to: wire.count, by: 7_000) {
            parser.append(wire[chunk..<min(chunk + 7_000, wire.count)])
            if let v = try parser.next() { got = v }
        }
        #expect(got == .bulkString(big))
        #expect(parser.bufferedCount == 0)
    }
}

@Suite struct RESPEncoderTests {
    @Test func commandsAreArraysOfBulkStrings() {
        #expect(RESPEncoder.encode([Array("GET".utf8), Array("k".utf8)]) == Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".utf8))
        #expect(RESPEncoder.encode([]) == Array("*0\r\n".utf8))
        let binary: [UInt8] = [0, 13, 10, 255]
        #expect(RESPEncoder.encode([binary]) == Array("*1\r\n$4\r\n".utf8) + binary + [13, 10])
        let long = [UInt8](repeating: 1, count: 12_345)
        #expect(RESPEncoder.encode([long]).prefix(10) == ArraySlice(Array("*1\r\n$12345".utf8)))
    }

    /// A command built piece by piece (the writer's hot EVALSHA) is the same bytes as one built
    /// from arrays.
    @Test func piecewiseIsTheSameAsArrays() {
        let arguments: [[UInt8]] = [Array("EVALSHA".utf8), [], Array("42".utf8), [0, 13, 10, 255], Array(repeating: 7, count: 300)]
        var out: [UInt8] = Array("+rest".utf8)
        RESPEncoder.appendArrayHeader(count: arguments.count, to: &out)
        RESPEncoder.appendBulk("EVALSHA".utf8, to: &out)
        RESPEncoder.appendBulk([UInt8](), to: &out)
        RESPEncoder.appendBulk(String(42).utf8, to: &out)
        RESPEncoder.appendBulk(arguments[3][...], to: &out)
        RESPEncoder.appendBulk(arguments[4], to: &out)
        #expect(out == Array("+rest".utf8) + RESPEncoder.encode(arguments))
    }

    /// What the encoder writes, the parser reads back (a command is an array of bulk strings).
    @Test func roundTrip() throws {
        let arguments: [[UInt8]] = [Array("EVALSHA".utf8), [], Array(repeating: 7, count: 300), [13, 10]]
        var parser = RESPParser()
        parser.append(RESPEncoder.encode(arguments))
        #expect(try parser.next() == .array(arguments.map { .bulkString($0) }))
    }
}

@Suite struct RedisAddressTests {
    @Test func parses() throws {
        #expect(try RedisAddress(parsing: "127.0.0.1:6380") == RedisAddress(host: "127.0.0.1", port: 6380))
        #expect(try RedisAddress(parsing: "localhost") == RedisAddress(host: "localhost", port: 6379))
        #expect(try RedisAddress(parsing: "[::1]:7000") == RedisAddress(host: "::1", port: 7000))
        #expect(try RedisAddress(parsing: "[::1]").description == "[::1]:6379")
        for bad in ["", ":6379", "host:", "host:0", "host:70000", "host:x", "[::1]x"] {
            #expect(throws: RESPError.invalidAddress(bad)) { try RedisAddress(parsing: bad) }
        }
    }
}
