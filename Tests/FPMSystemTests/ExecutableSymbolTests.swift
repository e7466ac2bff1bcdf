import FPMSystem
import Testing

/// A function the test binary does not export: a @convention(c) closure is emitted as a local
/// symbol, which dladdr() cannot name and the executable's .symtab can.
private let localFunction: @convention(c) (Int32) -> Int32 = { $0 &+ 1 }

/// The slowlog's fallback for frames the dynamic symbol table does not know.
@Suite struct ExecutableSymbolTests {
    @Test func aLocalFunctionIsNamedFromTheExecutablesOwnSymbolTable() throws {
        let start = UInt(bitPattern: unsafeBitCast(localFunction, to: UnsafeRawPointer.self))
        let found = try #require(SlowlogTrace.executableSymbol(at: start))
        #expect(found.name.hasPrefix("$s"), "a Swift symbol: \(found.name)")
        #expect(found.offset == 0)
        // An address inside it names the same function, with the offset into it.
        let inside = try #require(SlowlogTrace.executableSymbol(at: start + 1))
        #expect(inside.name == found.name && inside.offset == 1)
    }

    @Test func anAddressOutsideTheExecutableIsNotNamed() {
        #expect(SlowlogTrace.executableSymbol(at: 16) == nil)
        var onTheStack = 0
        let stack = withUnsafeMutablePointer(to: &onTheStack) { UInt(bitPattern: $0) }
        #expect(SlowlogTrace.executableSymbol(at: stack) == nil)
    }
}
