-- Version-guarded SET, run atomically by Redis (EVAL/EVALSHA) for the syncToRedis workers:
-- KEYS[1] = the row's id, ARGV[1] = the payload's JSON, ARGV[2] = its version.
-- Writes only when the stored value's version is older, or when there is none; unversioned
-- payloads (version 0, the classic trigger's) replace only unversioned values. Returns 1 when
-- it wrote, 0 when the stored value was newer (or as new).
local new = tonumber(ARGV[2])
local stored = redis.call('GET', KEYS[1])
if stored then
    local ok, value = pcall(cjson.decode, stored)
    local old = 0
    if ok and type(value) == 'table' and tonumber(value['version']) then
        old = tonumber(value['version'])
    end
    if old > new or (old == new and new ~= 0) then
        return 0
    end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
