/**
 * The Lua scripts the Redis store runs. Each runs atomically on the server, so concurrent replicas
 * see one order of admissions: N admissions against a budget that fits k admit exactly k. ioredis
 * `defineCommand` sends them with EVALSHA (EVAL once after a server restart empties the script cache).
 *
 * Time: the scripts read the server's clock (`TIME`) so replicas with skewed clocks agree on rate
 * windows. Tests pass their own clock in ARGV[1] instead (an empty string means "use TIME"); Redis
 * 5+ replicates script effects, so reading TIME before writing is allowed.
 *
 * The rate arithmetic is GCRA, the same as gcra.ts (see there for the idea); TATs are epoch ms
 * with three decimals, stored with a PX expiry that ends when the scope is full again.
 * The keys live in one slot only when cluster mode is disabled, which is what this project deploys.
 */

/** Lua shared by both scripts: the clock and the GCRA helpers. */
const PRELUDE = `
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
else
  now = tonumber(ARGV[1])
end
local PERIOD = 60000
local EPSILON = 0.001

local function load_tat(key)
  local tat = tonumber(redis.call('GET', key))
  if tat == nil or tat < now then return now end
  return tat
end

local function store_tat(key, tat)
  if tat <= now then
    redis.call('DEL', key)
  else
    -- No expiry: a key with a TTL is what the cache's volatile-lru eviction may drop (a fresh bucket).
    -- A stale time in the past reads as a full scope, and there are two keys per client.
    redis.call('SET', key, string.format('%.3f', tat))
  end
end

local function remaining(tat, limit)
  if tat <= now then return limit end
  local left = math.floor(limit - (tat - now) * limit / PERIOD + 1e-9)
  if left < 0 then return 0 end
  return left
end
`;

/**
 * Admission: reads the cache entry first. A cache hit uses no tokens and no money, so it is checked
 * and reserved against both RPM scopes only (TPM and budgets untouched, nothing to settle). Any
 * other request is checked against both RPM and both TPM scopes and both monthly budgets, and all
 * of them are reserved only if every check passes.
 *
 * With a ledger, the month's counters count only once they have been seeded from it (the month's
 * `seeded` key, written by SEED_SCRIPT): a request with a cost finds that key missing when Redis
 * came up empty (a flush, a replaced node) and gets reply `{2}`, admitting nothing, so the store
 * seeds and asks again.
 *
 * KEYS: client RPM, stage RPM, client TPM, stage TPM, client spend (month), stage spend (month),
 *       cache key ('' for none), client spend (previous month), stage spend (previous month),
 *       the month's seeded key ('' without a ledger).
 * ARGV: now ms ('' = server TIME), client rpm, stage rpm, client tpm, stage tpm, tokens,
 *       cost nanos, client budget nanos, stage budget nanos, past-month spend TTL seconds, stage burst ms
 *       (how far ahead of now the stage scopes may run; the client scopes may run a whole period).
 * Reply: admitted (0/1, or 2 = not seeded), request wait ms, token wait ms, client budget exceeded
 *        (0/1), stage budget exceeded (0/1), client remaining requests, client requests reset ms,
 *        client remaining tokens, client tokens reset ms, client spend and stage spend after the
 *        admission (nano-dollars; -1 on a cache hit, which does not read them), cached value (nil on
 *        a miss or refusal).
 */
export const ADMIT_SCRIPT = `${PRELUDE}
local client_rpm = tonumber(ARGV[2])
local stage_rpm = tonumber(ARGV[3])
local client_tpm = tonumber(ARGV[4])

local c_req = load_tat(KEYS[1])
local s_req = load_tat(KEYS[2])
local c_tok = load_tat(KEYS[3])
local STAGE_BURST = tonumber(ARGV[11]) or PERIOD
local c_req_next = c_req + PERIOD / client_rpm
local s_req_next = s_req + PERIOD / stage_rpm
local request_wait = math.max(c_req_next - PERIOD, s_req_next - STAGE_BURST) - now
if request_wait <= EPSILON then request_wait = 0 end

local cached = false
if KEYS[7] ~= '' then cached = redis.call('GET', KEYS[7]) end
if cached then
  if request_wait > 0 then
    return {0, math.ceil(request_wait), 0, 0, 0,
      remaining(c_req, client_rpm), math.ceil(c_req - now), remaining(c_tok, client_tpm), math.ceil(c_tok - now), -1, -1}
  end
  store_tat(KEYS[1], c_req_next)
  store_tat(KEYS[2], s_req_next)
  return {1, 0, 0, 0, 0, remaining(c_req_next, client_rpm), math.ceil(c_req_next - now),
    remaining(c_tok, client_tpm), math.ceil(c_tok - now), -1, -1, cached}
end

local cost = tonumber(ARGV[7])
if cost ~= 0 and KEYS[10] ~= '' and redis.call('EXISTS', KEYS[10]) == 0 then return {2} end

local stage_tpm = tonumber(ARGV[5])
local tokens = tonumber(ARGV[6])
local s_tok = load_tat(KEYS[4])
local c_tok_next = c_tok + tokens * PERIOD / client_tpm
local s_tok_next = s_tok + tokens * PERIOD / stage_tpm
local token_wait = math.max(c_tok_next - PERIOD, s_tok_next - STAGE_BURST) - now
if token_wait <= EPSILON then token_wait = 0 end

local c_spent_raw = redis.call('GET', KEYS[5])
local s_spent_raw = redis.call('GET', KEYS[6])
local c_spent = tonumber(c_spent_raw) or 0
local s_spent = tonumber(s_spent_raw) or 0
local c_over = 0
if c_spent + cost > tonumber(ARGV[8]) then c_over = 1 end
local s_over = 0
if s_spent + cost > tonumber(ARGV[9]) then s_over = 1 end

if request_wait > 0 or token_wait > 0 or c_over == 1 or s_over == 1 then
  return {0, math.ceil(request_wait), math.ceil(token_wait), c_over, s_over,
    remaining(c_req, client_rpm), math.ceil(c_req - now), remaining(c_tok, client_tpm), math.ceil(c_tok - now),
    c_spent, s_spent}
end

store_tat(KEYS[1], c_req_next)
store_tat(KEYS[2], s_req_next)
store_tat(KEYS[3], c_tok_next)
store_tat(KEYS[4], s_tok_next)
if cost ~= 0 then
  -- This month's counters never expire (so eviction never drops them); the first spend of a month
  -- gives the previous month's counters their TTL: history from then on, no longer read by admission.
  redis.call('INCRBY', KEYS[5], ARGV[7])
  if not c_spent_raw and redis.call('TTL', KEYS[8]) == -1 then redis.call('EXPIRE', KEYS[8], ARGV[10]) end
  redis.call('INCRBY', KEYS[6], ARGV[7])
  if not s_spent_raw and redis.call('TTL', KEYS[9]) == -1 then redis.call('EXPIRE', KEYS[9], ARGV[10]) end
end
return {1, 0, 0, 0, 0, remaining(c_req_next, client_rpm), math.ceil(c_req_next - now),
  remaining(c_tok_next, client_tpm), math.ceil(c_tok_next - now), c_spent + cost, s_spent + cost}
`;

/**
 * Seeding: raises the month's spend counters to what the ledger holds (never lowers one: Redis may be
 * ahead by the increments not yet written), marks the month seeded, and gives the previous month's
 * seeded key its TTL. Idempotent, so replicas that seed at once agree.
 *
 * KEYS: the month's seeded key, the previous month's, then one spend counter per ledger scope.
 * ARGV: past-month TTL seconds, then the ledger's nano-dollars of each counter, in KEYS order.
 * Reply: how many counters were raised.
 */
export const SEED_SCRIPT = `
local raised = 0
for i = 3, #KEYS do
  local target = tonumber(ARGV[i - 1])
  local current = tonumber(redis.call('GET', KEYS[i])) or 0
  if target > current then
    redis.call('SET', KEYS[i], string.format('%d', target))
    raised = raised + 1
  end
end
redis.call('SET', KEYS[1], '1')
if redis.call('TTL', KEYS[2]) == -1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
return raised
`;

/**
 * Replay: adds the spend the fallback admitted while Redis could not answer to the month's counters.
 * When the month is not seeded (Redis came back empty), it adds nothing: the ledger holds that spend
 * and the seeding takes it from there.
 *
 * KEYS: the month's seeded key ('' without a ledger), then spend counters. ARGV: nano-dollars to add
 * to each counter, in KEYS order from the second. Reply: 1 if added, 0 if left to the seeding.
 */
export const REPLAY_SCRIPT = `
if KEYS[1] ~= '' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #KEYS do redis.call('INCRBY', KEYS[i], ARGV[i - 1]) end
return 1
`;

/**
 * Settlement: gives unused tokens back to both TPM scopes (or takes the excess), adds the cost
 * difference to both spend counters of the ticket's month, and stores the cache entry of a miss
 * (one command for both, instead of a settlement and a SET).
 *
 * KEYS: client TPM, stage TPM, client spend (ticket month), stage spend (ticket month),
 *       cache key ('' for none).
 * ARGV: now ms ('' = server TIME), client tpm, stage tpm, unused tokens (negative = excess),
 *       extra cost nanos (negative = refund), spend key TTL seconds (0 while the ticket's month is the
 *       current one: its counters never expire), cache value, cache TTL seconds.
 */
export const SETTLE_SCRIPT = `${PRELUDE}
local unused = tonumber(ARGV[4])
if unused ~= 0 then
  store_tat(KEYS[1], load_tat(KEYS[1]) - unused * PERIOD / tonumber(ARGV[2]))
  store_tat(KEYS[2], load_tat(KEYS[2]) - unused * PERIOD / tonumber(ARGV[3]))
end
if tonumber(ARGV[5]) ~= 0 then
  for i = 3, 4 do
    redis.call('INCRBY', KEYS[i], ARGV[5])
    if ARGV[6] ~= '0' and redis.call('TTL', KEYS[i]) == -1 then redis.call('EXPIRE', KEYS[i], ARGV[6]) end
  end
end
if KEYS[5] ~= '' then redis.call('SET', KEYS[5], ARGV[7], 'EX', ARGV[8]) end
return 1
`;

/**
 * `grown` (object-owners.ts) in Lua, on one key: KEYS[1] the owner record; ARGV added tokens, the exact revision ('' for
 * none), the exact tokens, the context window. The TTL is kept. Returns 1 if the record was there.
 */
export const OWNER_EXTEND_SCRIPT = `
local text = redis.call('GET', KEYS[1])
if not text then return 0 end
local ok, owner = pcall(cjson.decode, text)
if not ok or type(owner) ~= 'table' then return 0 end
local revision = tonumber(owner.revision) or 0
local tokens = tonumber(owner.contextTokens)
if tokens ~= nil then
  if ARGV[2] ~= '' and tonumber(ARGV[2]) == revision then
    tokens = tonumber(ARGV[3])
  else
    tokens = tokens + tonumber(ARGV[1])
  end
  owner.contextTokens = math.min(math.max(0, math.ceil(tokens)), tonumber(ARGV[4]))
end
owner.revision = revision + 1
redis.call('SET', KEYS[1], cjson.encode(owner), 'KEEPTTL')
return 1
`;
