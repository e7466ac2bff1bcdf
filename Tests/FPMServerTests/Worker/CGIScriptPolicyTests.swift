@testable import FPMServer
import FPMSystem
import FastCGI
import Foundation
import Testing

@Suite struct CGIScriptPolicyTests {
    @Test func refusalsInOrder() throws {
        let dir = ScriptDirectory()
        let ok = dir.script("ok.cgi", "#!/bin/sh\n")
        dir.script("data.cgi", "x", mode: 0o644)
        let txt = dir.script("notes.txt", "#!/bin/sh\n")
        let policy = CGIScriptPolicy()
        func status(_ name: String?, root: String? = nil) -> Int? {
            if case .failure(let r) = policy.resolve(scriptFilename: name, documentRoot: root ?? dir.path) { return r.status }
            return nil
        }
        #expect(status(ok) == nil)
        #expect(status(nil) == 404)
        #expect(status("relative.cgi") == 403)
        #expect(status(dir.path + "/../x.cgi") == 403)
        #expect(status(txt) == 403)
        #expect(status(dir.path + "/missing.cgi") == 404)
        #expect(status(dir.path + "/data.cgi") == 403)
        #expect(status(ok, root: "/nonexistent-root") == 403)
        let elsewhere = ScriptDirectory()
        #expect(status(ok, root: elsewhere.path) == 403)
        // A symlink inside the root to a script outside it is refused: the real path counts.
        let outside = elsewhere.script("out.cgi", "#!/bin/sh\n")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/link.cgi", withDestinationPath: outside)
        #expect(status(dir.path + "/link.cgi") == 403)
        // Any extension when the list is empty; the chroot confines like a document root.
        #expect(CGIScriptPolicy(allowedExtensions: []).resolve(scriptFilename: txt, documentRoot: nil).isSuccess)
        #expect(!CGIScriptPolicy(confinedTo: elsewhere.path).resolve(scriptFilename: ok, documentRoot: nil).isSuccess)
    }

    @Test func environmentFollowsRFC3875() {
        let params = FastCGIParams([("QUERY_STRING", "a=1"), ("CONTENT_LENGTH", ""), ("HTTP_PROXY", "evil"),
                                    ("PATH_INFO", "/extra"), ("DOCUMENT_ROOT", "/srv/"), ("BAD=NAME", "x"),
                                    ("POOL", "from-params")])
        let env = CGIEnvironment.build(params: params, base: ["POOL": "from-pool", "HOME": "/home/w"])
            .map { String(decoding: $0, as: UTF8.self) }
        #expect(env.contains("GATEWAY_INTERFACE=CGI/1.1"))
        #expect(env.contains("QUERY_STRING=a=1"))
        #expect(env.contains("REQUEST_METHOD=GET"))
        #expect(env.contains("PATH_TRANSLATED=/srv/extra"))
        #expect(env.contains("POOL=from-params"))
        #expect(env.contains("HOME=/home/w"))
        #expect(!env.contains { $0.hasPrefix("CONTENT_LENGTH=") })
        #expect(!env.contains { $0.hasPrefix("HTTP_PROXY=") })
        #expect(!env.contains { $0.hasPrefix("BAD") })
        #expect(env == env.sorted())
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { return true } else { return false } }
}
