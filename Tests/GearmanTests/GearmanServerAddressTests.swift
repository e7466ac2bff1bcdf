import Gearman
import Testing

@Suite("Gearman server addresses")
struct GearmanServerAddressTests {
    @Test("host, host:port, [v6]:port; the port defaults to 4730")
    func valid() {
        #expect(GearmanServerAddress("127.0.0.1") == GearmanServerAddress(host: "127.0.0.1", port: 4730))
        #expect(GearmanServerAddress("gearman.local:4731") == GearmanServerAddress(host: "gearman.local", port: 4731))
        #expect(GearmanServerAddress("[::1]:4732") == GearmanServerAddress(host: "::1", port: 4732))
        #expect(GearmanServerAddress("[::1]") == GearmanServerAddress(host: "::1", port: 4730))
        #expect(GearmanServerAddress("[::1]:4732")?.description == "[::1]:4732")
        #expect(GearmanServerAddress("localhost")?.description == "localhost:4730")
    }

    @Test("bad addresses are refused", arguments: ["", ":4730", "host:", "host:0", "host:65536", "host:x", "::1", "[::1", "[::1]x", "a b:1"])
    func invalid(_ text: String) {
        #expect(GearmanServerAddress(text) == nil)
    }

    @Test("a comma-separated list, spaces allowed")
    func list() {
        #expect(GearmanServerAddress.list("127.0.0.1:4730, 10.0.0.2") == [
            GearmanServerAddress(host: "127.0.0.1", port: 4730), GearmanServerAddress(host: "10.0.0.2", port: 4730),
        ])
        #expect(GearmanServerAddress.list("127.0.0.1, bad:port") == nil)
        #expect(GearmanServerAddress.list("") == nil)
    }
}
