/// Status pages captured from php-fpm 8.2 (`cgi-fcgi` against a real pool, headers removed),
/// while a second worker ran `POST /slow.php?a=<script>"x"/&b='y`.
enum PHPFPMGolden {
    static let text = #"""
pool:                 www
process manager:      dynamic
start time:           27/Nov/2026:18:27:53 +0000
start since:          11
accepted conn:        14
listen queue:         0
max listen queue:     0
listen queue len:     4096
idle processes:       0
active processes:     2
total processes:      2
max active processes: 2
max children reached: 0
slow requests:        0

"""#

    static let textFull = #"""
pool:                 www
process manager:      dynamic
start time:           27/Nov/2026:18:27:53 +0000
start since:          11
accepted conn:        15
listen queue:         0
max listen queue:     0
listen queue len:     4096
idle processes:       0
active processes:     2
total processes:      2
max active processes: 2
max children reached: 0
slow requests:        0

************************
pid:                  15594
state:                Running
start time:           27/Nov/2026:18:27:53 +0000
start since:          11
requests:             13
request duration:     139
request method:       GET
request URI:          /status?full
content length:       0
user:                 -
script:               -
last request cpu:     0.00
last request memory:  0

************************
pid:                  15595
state:                Running
start time:           27/Nov/2026:18:27:53 +0000
start since:          11
requests:             2
request duration:     104611
request method:       POST
request URI:          /slow.php?a=<script>"x"/&b='y
content length:       0
user:                 -
script:               /tmp/sfpm/www/slow.php
last request cpu:     0.00
last request memory:  0

"""#

    static let json = #"""
{"pool":"www","process manager":"dynamic","start time":1795804073,"start since":11,"accepted conn":16,"listen queue":0,"max listen queue":0,"listen queue len":4096,"idle processes":0,"active processes":2,"total processes":2,"max active processes":2,"max children reached":0,"slow requests":0}
"""#

    static let jsonFull = #"""
{"pool":"www","process manager":"dynamic","start time":1795804073,"start since":11,"accepted conn":17,"listen queue":0,"max listen queue":0,"listen queue len":4096,"idle processes":0,"active processes":2,"total processes":2,"max active processes":2,"max children reached":0,"slow requests":0, "processes":[{"pid":15594,"state":"Running","start time":1795804073,"start since":11,"requests":15,"request duration":112,"request method":"GET","request uri":"\/status?json&full","content length":0,"user":"-","script":"-","last request cpu":0.00,"last request memory":0},{"pid":15595,"state":"Running","start time":1795804073,"start since":11,"requests":2,"request duration":111647,"request method":"POST","request uri":"\/slow.php?a=<script>\"x\"\/&b='y","content length":0,"user":"-","script":"\/tmp\/sfpm\/www\/slow.php","last request cpu":0.00,"last request memory":0}]}
"""#

    static let xml = #"""
<?xml version="1.0" ?>
<status>
<pool>www</pool>
<process-manager>dynamic</process-manager>
<start-time>1795804073</start-time>
<start-since>11</start-since>
<accepted-conn>18</accepted-conn>
<listen-queue>0</listen-queue>
<max-listen-queue>0</max-listen-queue>
<listen-queue-len>4096</listen-queue-len>
<idle-processes>0</idle-processes>
<active-processes>2</active-processes>
<total-processes>2</total-processes>
<max-active-processes>2</max-active-processes>
<max-children-reached>0</max-children-reached>
<slow-requests>0</slow-requests>
</status>
"""#

    static let xmlFull = #"""
<?xml version="1.0" ?>
<status>
<pool>www</pool>
<process-manager>dynamic</process-manager>
<start-time>1795804073</start-time>
<start-since>11</start-since>
<accepted-conn>19</accepted-conn>
<listen-queue>0</listen-queue>
<max-listen-queue>0</max-listen-queue>
<listen-queue-len>4096</listen-queue-len>
<idle-processes>0</idle-processes>
<active-processes>2</active-processes>
<total-processes>2</total-processes>
<max-active-processes>2</max-active-processes>
<max-children-reached>0</max-children-reached>
<slow-requests>0</slow-requests>
<processes>
<process><pid>15594</pid><state>Running</state><start-time>1795804073</start-time><start-since>11</start-since><requests>17</requests><request-duration>111</request-duration><request-method>GET</request-method><request-uri>/status?xml&amp;full</request-uri><content-length>0</content-length><user>-</user><script>-</script><last-request-cpu>0.00</last-request-cpu><last-request-memory>0</last-request-memory></process>
<process><pid>15595</pid><state>Running</state><start-time>1795804073</start-time><start-since>11</start-since><requests>2</requests><request-duration>118451</request-duration><request-method>POST</request-method><request-uri>/slow.php?a=&lt;script&gt;&quot;x&quot;/&amp;b='y</request-uri><content-length>0</content-length><user>-</user><script>/tmp/sfpm/www/slow.php</script><last-request-cpu>0.00</last-request-cpu><last-request-memory>0</last-request-memory></process>
</processes>
</status>
"""#

    static let html = #"""
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head><title>PHP-FPM Status Page</title></head>
<body>
<table>
<tr><th>pool</th><td>www</td></tr>
<tr><th>process manager</th><td>dynamic</td></tr>
<tr><th>start time</th><td>27/Nov/2026:18:27:53 +0000</td></tr>
<tr><th>start since</th><td>11</td></tr>
<tr><th>accepted conn</th><td>20</td></tr>
<tr><th>listen queue</th><td>0</td></tr>
<tr><th>max listen queue</th><td>0</td></tr>
<tr><th>listen queue len</th><td>4096</td></tr>
<tr><th>idle processes</th><td>0</td></tr>
<tr><th>active processes</th><td>2</td></tr>
<tr><th>total processes</th><td>2</td></tr>
<tr><th>max active processes</th><td>2</td></tr>
<tr><th>max children reached</th><td>0</td></tr>
<tr><th>slow requests</th><td>0</td></tr>
</table>
</body></html>
"""#

    static let htmlFull = #"""
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head><title>PHP-FPM Status Page</title></head>
<body>
<table>
<tr><th>pool</th><td>www</td></tr>
<tr><th>process manager</th><td>dynamic</td></tr>
<tr><th>start time</th><td>27/Nov/2026:18:27:53 +0000</td></tr>
<tr><th>start since</th><td>11</td></tr>
<tr><th>accepted conn</th><td>21</td></tr>
<tr><th>listen queue</th><td>0</td></tr>
<tr><th>max listen queue</th><td>0</td></tr>
<tr><th>listen queue len</th><td>4096</td></tr>
<tr><th>idle processes</th><td>0</td></tr>
<tr><th>active processes</th><td>2</td></tr>
<tr><th>total processes</th><td>2</td></tr>
<tr><th>max active processes</th><td>2</td></tr>
<tr><th>max children reached</th><td>0</td></tr>
<tr><th>slow requests</th><td>0</td></tr>
</table>
<table border="1">
<tr><th>pid</th><th>state</th><th>start time</th><th>start since</th><th>requests</th><th>request duration</th><th>request method</th><th>request uri</th><th>content length</th><th>user</th><th>script</th><th>last request cpu</th><th>last request memory</th></tr>
<tr><td>15594</td><td>Running</td><td>27/Nov/2026:18:27:53 +0000</td><td>11</td><td>19</td><td>127</td><td>GET</td><td>/status?html&amp;full</td><td>0</td><td>-</td><td>-</td><td>0.00</td><td>0</td></tr>
<tr><td>15595</td><td>Running</td><td>27/Nov/2026:18:27:53 +0000</td><td>11</td><td>2</td><td>125611</td><td>POST</td><td>/slow.php?a=&lt;script&gt;&quot;x&quot;/&amp;b='y</td><td>0</td><td>-</td><td>/tmp/sfpm/www/slow.php</td><td>0.00</td><td>0</td></tr>
</table></body></html>
"""#

    static let openmetrics = #"""
# HELP phpfpm_up Could pool www using a dynamic PM on PHP-FPM be reached?
# TYPE phpfpm_up gauge
phpfpm_up 1
# HELP phpfpm_start_since The number of seconds since FPM has started.
# TYPE phpfpm_start_since counter
phpfpm_start_since 11
# HELP phpfpm_accepted_connections The number of requests accepted by the pool.
# TYPE phpfpm_accepted_connections counter
phpfpm_accepted_connections 22
# HELP phpfpm_listen_queue The number of requests in the queue of pending connections.
# TYPE phpfpm_listen_queue gauge
phpfpm_listen_queue 0
# HELP phpfpm_max_listen_queue The maximum number of requests in the queue of pending connections since FPM has started.
# TYPE phpfpm_max_listen_queue counter
phpfpm_max_listen_queue 0
# TYPE phpfpm_listen_queue_length gauge
# HELP phpfpm_listen_queue_length The size of the socket queue of pending connections.
phpfpm_listen_queue_length 4096
# HELP phpfpm_idle_processes The number of idle processes.
# TYPE phpfpm_idle_processes gauge
phpfpm_idle_processes 0
# HELP phpfpm_active_processes The number of active processes.
# TYPE phpfpm_active_processes gauge
phpfpm_active_processes 2
# HELP phpfpm_total_processes The number of idle + active processes.
# TYPE phpfpm_total_processes gauge
phpfpm_total_processes 2
# HELP phpfpm_max_active_processes The maximum number of active processes since FPM has started.
# TYPE phpfpm_max_active_processes counter
phpfpm_max_active_processes 2
# HELP phpfpm_max_children_reached The number of times, the process limit has been reached, when pm tries to start more children (works only for pm 'dynamic' and 'ondemand').
# TYPE phpfpm_max_children_reached counter
phpfpm_max_children_reached 0
# HELP phpfpm_slow_requests The number of requests that exceeded your 'request_slowlog_timeout' value.
# TYPE phpfpm_slow_requests counter
phpfpm_slow_requests 0
# EOF

"""#
}
