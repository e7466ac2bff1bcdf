import Glibc

/// The part of a test nginx's configuration every test nginx shares: run in the foreground
/// under a temp prefix (pid, error log, temp folders), as root when the tests run as root.
/// The callers add their `upstream` and `server` blocks.
enum NginxConfiguration {
    static func main(dir: String, workerConnections: Int = 512, http: String) -> String {
        """
        \(getuid() == 0 ? "user root;" : "")
        worker_processes 1;
        daemon off;
        error_log \(dir)/logs/error.log warn;
        pid \(dir)/nginx.pid;
        events { worker_connections \(workerConnections); }
        http {
            access_log off;
            client_body_temp_path \(dir)/tmp/body;
            fastcgi_temp_path \(dir)/tmp/fastcgi;
            proxy_temp_path \(dir)/tmp/proxy;
            uwsgi_temp_path \(dir)/tmp/uwsgi;
            scgi_temp_path \(dir)/tmp/scgi;
        \(http)
        }

        """
    }
}
