@testable import FastCGI
import Testing

/// The well-known names' table answers exactly as the scan does: the last occurrence, nil when
/// absent, and never a near miss (same length, other bytes).
@Suite("Known param names")
struct KnownParamNamesTests {
    @Test("every well-known name is found by the table, as the last of its occurrences")
    func everyNameFound() {
        let names = KnownParamNames.names
        #expect(names.count == KnownParamNames.slotCount && Set(names).count == names.count)
        var pairs = names.map { ($0, "first \($0)") }
        pairs += [("OTHER", "x")] + names.map { ($0, "last \($0)") }
        let p = FastCGIParams(pairs)
        for name in names {
            #expect(p[name] == "last \(name)", "\(name)")
            #expect(name.utf8.withContiguousStorageIfAvailable { KnownParamNames.slot(of: UnsafeRawBufferPointer($0)) }
                    == names.firstIndex(of: name), "\(name) has its own slot")
        }
        #expect(p["OTHER"] == "x")
    }

    @Test("an absent well-known name is nil, and near misses are not taken for known names",
          arguments: ["SCRIPT_NAMF", "script_name", "SCRIPT_NAM", "SCRIPT_NAME_", "HTTPX", "XTTPS", "PATH_INFO\0",
                     "SERVER_NAMX", "REMOTE_HOST", "HTTP_ACCEPT", "QUERY_STRINX", "CONTENT_TYPX", "DOCUMENT_ROOX",
                     "XEQUEST_METHOD", "SCRIPT_FILENAMX", "PATH_TRANSLATEX", "HTTP_USER_AGENT", "AUTH_TYPE"])
    func nearMisses(name: String) {
        let p = FastCGIParams([("SCRIPT_NAME", "/a"), ("HTTPS", "on"), ("PATH_INFO", "/b")])
        #expect(p[name] == nil)
        let q = FastCGIParams([(name, "v")])
        #expect(q[name] == "v", "an unknown name is still found by the scan")
        #expect(q["SCRIPT_NAME"] == nil && q["HTTPS"] == nil && q["PATH_INFO"] == nil)
    }

    @Test("a request without the well-known names answers nil for each")
    func noneKnown() {
        let p = FastCGIParams([("A", "1")])
        for name in KnownParamNames.names { #expect(p[name] == nil) }
        #expect(FastCGIParams()["SCRIPT_NAME"] == nil)
    }

    @Test("an entry past a slot's range falls back to the scan")
    func unindexedFallsBackToTheScan() {
        var known = KnownParamNames()
        known.record(3, entry: 70_000)
        #expect(known.entry(3) == KnownParamNames.unindexed)
        known.record(3, entry: 7)
        #expect(known.entry(3) == 7)
        #expect(known.entry(4) == KnownParamNames.absent)
        // Through the params: 65,540 pairs, the well-known one last.
        var pairs = (0..<65_539).map { ("N\($0)", "") }
        pairs.append(("QUERY_STRING", "q=1"))
        let p = FastCGIParams(pairs)
        #expect(p["QUERY_STRING"] == "q=1")
    }
}
