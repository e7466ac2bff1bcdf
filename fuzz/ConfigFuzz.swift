// libFuzzer entry for the configuration reader. Built by mk/config.mk together with
// Sources/FPMConfiguration/*.swift (no module import: the sources are compiled into this binary).
//
// The input is one configuration file; it is also tried after a valid pool preamble, so that
// mutations of single directives get past "No pool defined" and reach the render check. It is read with no file system (`.isolated`: include
// fails, directories and accounts are taken to exist) and a fixed environment. Invariants:
// - loading never crashes or hangs;
// - a configuration that loads renders (`-tt`) to text that loads again to an equal configuration,
//   and that rendering is stable (rendering the re-read configuration gives the same text).

let fuzzEnvironment = ["HOME": "/home/fuzz", "PORT": "9000", "POOL": "$pool", "EMPTY": ""]

let preamble = Array("[www]\nlisten = 127.0.0.1:9000\npm = dynamic\npm.max_children = 5\npm.min_spare_servers = 1\npm.max_spare_servers = 3\n".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func configFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    checkRoundTrip(bytes)
    checkRoundTrip(preamble + bytes)
    return 0
}

/// Loads `bytes`; when that fails, blanks the lines the errors point at and tries again (a few
/// times), so that most inputs end in a configuration that loads and the render check runs.
func loadLeniently(_ bytes: [UInt8]) -> FPMConfiguration? {
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
    for _ in 0..<4 {
        do {
            return try ConfigurationLoader.load(
                bytes: Array(lines.joined(separator: [UInt8(ascii: "\n")])), path: "fuzz.conf", prefix: nil,
                environment: fuzzEnvironment, fileSystem: .isolated)
        } catch {
            // Every error must say something.
            precondition(!error.errors.isEmpty, "a failed load reported no error")
            let bad = Set(error.errors.compactMap { $0.file == "fuzz.conf" ? $0.line : nil })
            if bad.isEmpty { return nil }
            for line in bad where line >= 1 && line <= lines.count { lines[line - 1] = [] }
        }
    }
    return nil
}

func checkRoundTrip(_ bytes: [UInt8]) {
    guard let first = loadLeniently(bytes) else { return }
    let rendered = first.renderEffective()
    let second: FPMConfiguration
    do {
        second = try ConfigurationLoader.load(
            text: rendered, path: "rendered.conf", prefix: nil, environment: fuzzEnvironment, fileSystem: .isolated)
    } catch {
        fatalError("the rendering of a valid configuration does not load:\n\(error)\n--- rendered:\n\(rendered)")
    }
    precondition(second.global == first.global, "[global] changed through render/re-read:\n\(rendered)")
    for (a, b) in zip(first.pools, second.pools) where a != b {
        fatalError("pool \(a.name) changed through render/re-read:\n\(a)\n\(b)\n--- rendered:\n\(rendered)")
    }
    precondition(second.pools.count == first.pools.count, "pool count changed:\n\(rendered)")
    precondition(second.renderEffective() == rendered, "rendering is not stable:\n\(rendered)")
}
