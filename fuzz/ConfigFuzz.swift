// libFuzzer entry for the configuration reader. Built by mk/config.mk together with
// Sources/FPMConfiguration/*.swift (no module import: the sources are compiled into this binary).
//
// The input is one configuration file. It is read with no file system (`.isolated`: include
// fails, directories and accounts are taken to exist) and a fixed environment. Invariants:
// - loading never crashes or hangs;
// - a configuration that loads renders (`-tt`) to text that loads again to an equal configuration,
//   and that rendering is stable (rendering the re-read configuration gives the same text).

let fuzzEnvironment = ["HOME": "/home/fuzz", "PORT": "9000", "POOL": "$pool", "EMPTY": ""]

@_cdecl("LLVMFuzzerTestOneInput")
public func configFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let first: FPMConfiguration
    do {
        first = try ConfigurationLoader.load(
            bytes: bytes, path: "fuzz.conf", prefix: nil, environment: fuzzEnvironment, fileSystem: .isolated)
    } catch {
        // Every error must say something.
        precondition(!error.diagnostics.isEmpty, "a failed load reported no diagnostic")
        return 0
    }
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
    return 0
}
