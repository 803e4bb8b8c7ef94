-- Posts the next line of $BODIES as the request body, so that no two requests of a run carry
-- the same client assertion (replay protection stays on). wrk threads take interleaved lines;
-- $WRK_THREADS must equal wrk's -t. $AUTH, when set, is sent as the Authorization header.
-- With several wrk processes (one per node), $PARTS is their number and $PART this one's index
-- (from 0): each takes its own share of the lines.
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  local threads = tonumber(os.getenv("WRK_THREADS") or "1")
  local parts = tonumber(os.getenv("PARTS") or "1")
  local part = tonumber(os.getenv("PART") or "0")
  local slots = threads * parts
  local slot = part * threads + tid
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  local auth = os.getenv("AUTH")
  if auth and auth ~= "" then
    wrk.headers["Authorization"] = auth
  end
  local all = {}
  for line in io.lines(os.getenv("BODIES")) do
    all[#all + 1] = line
  end
  -- A file of one body (secret-based scenarios) is shared by all threads.
  lines = {}
  for i, line in ipairs(all) do
    if #all < slots or (i - 1) % slots == slot then
      lines[#lines + 1] = line
    end
  end
  idx = 0
end

function request()
  idx = idx + 1
  -- Running out wraps around: the repeats are replays, rejected, and counted as non-2xx.
  if idx > #lines then
    idx = 1
  end
  return wrk.format(nil, nil, nil, lines[idx])
end
