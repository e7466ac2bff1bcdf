import FastCGI
import Testing

/// The GET_VALUES exchange HAProxy 2.6 has on each new connection with `option get-values`,
/// byte for byte as recorded (strace) between HAProxy and a pool of `pm.max_children = 2`.
@Suite("GET_VALUES as HAProxy asks it")
struct FrontEndGetValuesTests {
    /// HAProxy's record: FCGI_MAX_REQS and FCGI_MPXS_CONNS, no padding.
    static let haproxyQuery: [UInt8] = [1, 9, 0, 0, 0, 32, 0, 0, 13, 0] + Array("FCGI_MAX_REQS".utf8)
        + [15, 0] + Array("FCGI_MPXS_CONNS".utf8)

    @Test("answered with the pool size for FCGI_MAX_REQS and 0 for FCGI_MPXS_CONNS, in one record")
    func haproxyQueryIsAnsweredTruthfully() throws {
        var parser = RequestParser(management: ManagementValues(maxConns: 2, maxReqs: 2))
        parser.append(FrontEndGetValuesTests.haproxyQuery)
        guard case .reply(let reply)? = try parser.nextEvent() else {
            Issue.record("GET_VALUES got no reply")
            return
        }
        // What the worker sent HAProxy (recorded): version 1, type 10, id 0, 34 bytes, no padding.
        let recorded: [UInt8] = [1, 10, 0, 0, 0, 34, 0, 0, 13, 1] + Array("FCGI_MAX_REQS".utf8) + Array("2".utf8)
            + [15, 1] + Array("FCGI_MPXS_CONNS".utf8) + Array("0".utf8)
        #expect(reply == recorded)
        #expect(try parser.nextEvent() == nil)
    }

    @Test("a connection carries one request at a time whatever the pool size: MPXS_CONNS stays 0")
    func multiplexingIsNeverClaimed() throws {
        for children in [1, 5, 64] {
            var parser = RequestParser(management: ManagementValues(maxConns: children, maxReqs: children))
            parser.append(FrontEndGetValuesTests.haproxyQuery)
            guard case .reply(let reply)? = try parser.nextEvent() else {
                Issue.record("GET_VALUES got no reply")
                return
            }
            let pairs = try NameValuePairs.decode(Array(reply[8...]))
            #expect(pairs.map(\.0) == ["FCGI_MAX_REQS", "FCGI_MPXS_CONNS"])
            #expect(pairs.map(\.1) == [String(children), "0"])
        }
    }
}
