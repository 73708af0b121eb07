#include "core/parallel.h"

#if !defined(_WIN32)
#include <pthread.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace cr {

// Note [Pool]
// parallel_for runs on a pool of our own instead of OpenMP regions. An OpenMP region ends at a
// barrier that waits for every thread of the team, including one the OS has not scheduled yet:
// beside another busy process, each region then costs up to a scheduler time slice, and a training
// step with dozens of regions ran many times slower on two threads than on one. Here the calling
// thread never waits for a thread that has not started:
//   - work is cut into chunks (a few per thread, boundaries fixed by the call); the caller and any
//     pool thread that wakes in time take chunks one at a time, each from its own stretch of
//     them first (Note [Home chunks]), then from the others';
//   - the caller waits only for chunks already taken, so a helper that wakes late finds nothing
//     left and the caller has done the whole job alone, as with one thread;
//   - waiting threads spin a short while, then sleep, and do not spin at all while threads of
//     this process are being preempted (Note [Adaptive spinning]), so that spinning never takes a
//     core from a thread that has work.
// Which thread runs a chunk never changes a result (Note [Determinism] in engine.cpp): each chunk
// writes its own outputs, and parallel_reduce combines its per-chunk partials in chunk order.
// One call uses the pool at a time; a concurrent call (another Python thread) runs inline.
//
// Note [Home chunks]
// Each thread of a job first takes the chunks of its own stretch of the range: the caller the
// first 1/T of them, pool thread i the (i+1)-th (T threads; pool threads keep their number for
// the life of the pool). Only when its stretch is done does a thread take chunks from the other
// stretches, so a thread that is late or preempted still holds back nothing. With one shared
// counter the chunks went to whichever thread asked first, a different split every time: a
// gradient one core wrote in the backward GEMM was read by the other in the optimizer step, and
// a buffer one core last used was cleared by the other, each cache line moving between the cores.
// With home stretches the same thread mostly writes a weight gradient's rows, updates them in the
// optimizer step and clears them in the next step's GEMM. The MLP benchmark's step on two threads
// (2 vCPUs) took 513 -> 503 µs compiled and 529 -> 520 µs eager when the two vCPUs sat close
// (a cache line's round trip between them 55 ns), and about 960 -> 880 µs when they did not
// (330 ns; benchmarks/core_to_core.cpp), where the SGD update and Eigen's clearing of the output
// panels took several times their one-thread time.

namespace {
int default_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    int v = std::atoi(env);
    if (v > 0) return v;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? (int)hc : 1;
}
std::atomic<int> g_threads{default_threads()};
thread_local int t_intra_limit = 0;  // 0: no limit
thread_local bool t_in_region = false;
thread_local int t_team_index = 0;

using Clock = std::chrono::steady_clock;

// Note [Adaptive spinning]
// A helper that sleeps between jobs is woken through the kernel, which takes tens of µs: a
// sub-millisecond GEMM is then mostly done by the caller before the helper arrives, and small
// products did not get faster with a second thread. Spinning a while after each job keeps the
// helper ready, but beside a busy process it takes a core that the thread with work needs (spins
// of 20-1000 µs measured worse there). So helpers spin only while spinning pays:
//   - a job posted while a helper spins should be joined within a few µs. When the caller instead
//     ran all of a job's chunks alone for longer than kLateJoin, or waited past kCallerSpin for a
//     chunk a helper took, that helper was not on a core. Two such misses in a row (one can be an
//     interrupt) turn spinning off for a while: kQuietFirst, doubled each time it happens again
//     within kQuietRepeat of the end of the last quiet time, up to kQuietMax. A busy neighbour
//     (more runnable threads than cores) takes the helper's core again as soon as it spins again;
//     a passing interrupt, daemon or hypervisor tick comes back much later. On the 2-vCPU machine
//     the benchmarks run on, a helper lost its core for up to a millisecond about every half
//     second; when a repeat was counted from the start of the last quiet time and within a second,
//     those ticks alone doubled the quiet time up to 256 ms out of every ~500, and the benchmark's
//     MLP step took 0.40 ms instead of 0.25 ms for seconds at a time. Bursts of such ticks still
//     come, so kQuietMax is short (32 ms): the look at /proc/loadavg below is what holds spinning
//     off beside a busy neighbour for as long as it runs;
//   - a helper that stopped spinning just before a job was posted (its kHelperSpin ran out) has
//     missed nothing: a miss needs a helper that still counts as spinning after the caller ran
//     the whole job alone, i.e. one that has not run at all since the job was posted;
//   - while threads of the backward inter-op pool run nodes (InterOpActive), helpers do not spin:
//     those threads need the cores;
//   - nor while the kernel counts more runnable threads than there are cores for a job's threads
//     (look_for_room, every 100 ms, and 2 ms after a look without room): a busy neighbour is seen
//     before any job is missed.
// Off, waiting threads sleep at once, as in a pool without spinning. Results never depend on it.
constexpr auto kHelperSpin = std::chrono::microseconds(100);  // a helper's wait for the next job
constexpr auto kCallerSpin = std::chrono::microseconds(200);  // the caller's wait for taken chunks
constexpr auto kLateJoin = std::chrono::microseconds(20);
constexpr auto kQuietFirst = std::chrono::milliseconds(4);
constexpr auto kQuietMax = std::chrono::milliseconds(32);
constexpr auto kQuietRepeat = std::chrono::milliseconds(50);

std::atomic<int64_t> g_no_spin_until{0};  // Clock ticks; spinning is off before this time
std::atomic<int> g_inter_op_active{0};    // inter-op pool threads running nodes (InterOpActive)
std::atomic<int> g_spinning{0};           // helpers spinning now

int64_t now_ticks() { return Clock::now().time_since_epoch().count(); }
template <class D>
int64_t ticks(D d) {
  return std::chrono::duration_cast<Clock::duration>(d).count();
}

std::atomic<bool> g_room{true};          // spare cores at the last look (look_for_room)
std::atomic<int64_t> g_room_checked{0};  // Clock ticks of that look

bool spinning_allowed() {
  return g_inter_op_active.load(std::memory_order_relaxed) == 0 && g_room.load(std::memory_order_relaxed) &&
         now_ticks() >= g_no_spin_until.load(std::memory_order_relaxed);
}

// Whether the threads of a job fit on the cores beside what else runs, looked up at most every
// kRoomCheck from the kernel's count of runnable threads (the fourth field of /proc/loadavg, "R/T":
// a snapshot, not an average). A busy neighbour process is always runnable, so a look sees it
// before any job is missed. A process that needs a core for a moment is runnable too, and while
// our helper spins it may wait for one (the benchmark harness, on its way back to its wait right
// after it wrote the request that woke the worker): a look without room turns spinning off and
// looks again kRoomRecheck later, when such a process has had a core and is gone, instead of
// kRoomCheck later. A busy neighbour is still there. Where the count is not available the answer
// is yes, and only missed joins turn spinning off.
#if defined(__linux__)
// The kernel's ids of the pool's threads (appended as each starts; a forked child starts over).
constexpr int kMaxWorkerIds = 1024;
std::atomic<long> g_worker_tid[kMaxWorkerIds];
std::atomic<int> g_worker_tids{0};
void note_worker_tid() {
  int i = g_worker_tids.load(std::memory_order_relaxed);
  while (i < kMaxWorkerIds && !g_worker_tids.compare_exchange_weak(i, i + 1)) {}
  if (i < kMaxWorkerIds) g_worker_tid[i].store((long)syscall(SYS_gettid), std::memory_order_release);
}

// Whether thread `tid` of this process is runnable (state R in /proc/self/task/<tid>/stat).
bool thread_runnable(long tid) {
  char path[64], buf[256];
  std::snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return false;
  buf[len] = 0;
  const char* paren = std::strrchr(buf, ')');  // the name may hold spaces and parentheses
  return paren && paren[1] == ' ' && paren[2] == 'R';
}

// How many of the runnable threads are the pool's own: this one and its runnable pool threads.
// Other threads of this process (an inter-op thread, a Python thread, a BLAS library's threads)
// compete for the cores like another process's.
int own_runnable_threads() {
  int n = 1, count = std::min(g_worker_tids.load(std::memory_order_acquire), kMaxWorkerIds);
  for (int i = 0; i < count; ++i)
    if (long tid = g_worker_tid[i].load(std::memory_order_acquire); tid > 0 && thread_runnable(tid)) ++n;
  return n;
}
#endif

constexpr auto kRoomCheck = std::chrono::milliseconds(100);
constexpr auto kRoomRecheck = std::chrono::milliseconds(2);
std::atomic<bool> g_room_doubt{false};  // the last look was a first one without room
void look_for_room(int threads) {
  int64_t now = now_ticks(), last = g_room_checked.load(std::memory_order_relaxed);
  auto wait = g_room_doubt.load(std::memory_order_relaxed) ? ticks(kRoomRecheck) : ticks(kRoomCheck);
  if (now - last < wait || !g_room_checked.compare_exchange_strong(last, now)) return;
#if defined(__linux__)
  static const int cores = std::max(1, (int)std::thread::hardware_concurrency());
  // The pool's runnable threads are read from /proc/self/task right after /proc/loadavg; one can
  // change state between the two reads (falling asleep, just woken): up to three looks, and room
  // if any of them shows it.
  bool room = false;
  for (int look = 0; look < 3 && !room; ++look) {
    std::FILE* f = std::fopen("/proc/loadavg", "r");
    if (!f) return;
    double a, b, c;
    int runnable = 0, total = 0;
    int got = std::fscanf(f, "%lf %lf %lf %d/%d", &a, &b, &c, &runnable, &total);
    std::fclose(f);
    if (got != 5) return;
    // Counting every runnable thread as another's is enough when it leaves room; otherwise the
    // pool's own are read from /proc/self/task.
    room = runnable - 1 + threads <= cores;
    if (!room) room = std::max(0, runnable - own_runnable_threads()) + threads <= cores;
  }
  // A first look without room is looked at again after kRoomRecheck instead of kRoomCheck.
  g_room_doubt.store(!room && !g_room_doubt.load(std::memory_order_relaxed), std::memory_order_relaxed);
  g_room.store(room, std::memory_order_relaxed);
#else
  (void)threads;
#endif
}

// After a job posted while a helper spun: whether a helper joined it in time (false too when the
// caller then waited past kCallerSpin for a chunk a helper took and is not running).
std::atomic<int> g_missed{0};
std::atomic<int64_t> g_quiet_ticks{0};  // how long spinning was last turned off
void note_join(bool in_time) {
  if (in_time) {
    if (g_missed.load(std::memory_order_relaxed) != 0) g_missed.store(0, std::memory_order_relaxed);
    return;
  }
  if (g_missed.fetch_add(1, std::memory_order_relaxed) + 1 < 2) return;
  g_missed.store(0, std::memory_order_relaxed);
  int64_t now = now_ticks(), quiet = ticks(kQuietFirst);
  if (now - g_no_spin_until.load(std::memory_order_relaxed) < ticks(kQuietRepeat))
    quiet = std::min(2 * g_quiet_ticks.load(std::memory_order_relaxed), ticks(kQuietMax));
  g_quiet_ticks.store(quiet, std::memory_order_relaxed);
  g_no_spin_until.store(now + quiet, std::memory_order_relaxed);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#else
  std::this_thread::yield();
#endif
}

// Spins until done() or the time limit (checked every 64 pauses); true if done() became true.
// Every 256 pauses (a few µs) it yields the core: when the kernel has put the thread this one waits
// for on the same core (as it does for a moment after waking a pool thread, and for tens of ms on
// a virtual machine whose other vCPU the hypervisor lent elsewhere), that thread runs at once
// instead of after this one's time slice. Spinning there made a 2-thread MLP step 2-4x slower than
// on one thread until the threads were moved apart; with nothing else to run, the yield returns at
// once.
template <class P>
bool spin_until(const P& done, Clock::duration limit) {
  auto t0 = Clock::now();
  for (int i = 1;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 63) == 0) {
      if (Clock::now() - t0 > limit) return done();
      if ((i & 255) == 0) std::this_thread::yield();
    }
  }
}

// One thread's stretch of a job's chunks (Note [Home chunks]), on a cache line of its own.
struct alignas(64) Stretch {
  std::atomic<int64_t> next{0};  // next chunk to take
  int64_t end = 0;
};

struct Job {
  detail::ChunkFn fn = nullptr;
  const void* ctx = nullptr;
  int64_t begin = 0, end = 0, step = 0, nchunks = 0;
  int helpers = 0;
  std::unique_ptr<Stretch[]> stretches;  // helpers + 1 of them, the caller's first
  std::atomic<int64_t> done{0};          // chunks finished
  std::atomic<int> joined{0};    // helpers that joined
  std::mutex mu;
  std::condition_variable cv;
  bool caller_sleeping = false;
  std::exception_ptr error;
};

class TeamScope {
 public:
  explicit TeamScope(int index) : prev_in_(t_in_region), prev_index_(t_team_index) {
    t_in_region = true;
    t_team_index = index;
  }
  ~TeamScope() {
    t_in_region = prev_in_;
    t_team_index = prev_index_;
  }

 private:
  bool prev_in_;
  int prev_index_;
};

// Whether a chunk of the job is still to be taken.
bool chunks_left(const Job& job) {
  for (int i = 0; i <= job.helpers; ++i)
    if (job.stretches[i].next.load(std::memory_order_relaxed) < job.stretches[i].end) return true;
  return false;
}

// The next chunk to run for thread `index`: from its own stretch, then from the others'; -1 when
// none is left.
int64_t next_chunk(Job& job, int index) {
  const int parts = job.helpers + 1;
  for (int k = 0; k < parts; ++k) {
    Stretch& s = job.stretches[(index + k) % parts];
    if (s.next.load(std::memory_order_relaxed) >= s.end) continue;  // (no write to a spent one)
    int64_t c = s.next.fetch_add(1, std::memory_order_relaxed);
    if (c < s.end) return c;
  }
  return -1;
}

// Takes and runs chunks until none is left.
void take_chunks(Job& job, int index) {
  TeamScope scope(index);
  for (;;) {
    const int64_t c = next_chunk(job, index);
    if (c < 0) return;
    int64_t b = job.begin + c * job.step, e = std::min(job.end, b + job.step);
    try {
      job.fn(job.ctx, b, e);
    } catch (...) {
      std::lock_guard<std::mutex> lk(job.mu);
      if (!job.error) job.error = std::current_exception();
    }
    if (job.done.fetch_add(1, std::memory_order_acq_rel) + 1 == job.nchunks) {
      std::lock_guard<std::mutex> lk(job.mu);
      if (job.caller_sleeping) job.cv.notify_one();
    }
  }
}

class Pool {
 public:
  std::atomic<bool> busy{false};

  void post(const std::shared_ptr<Job>& job) {
    std::lock_guard<std::mutex> lk(mu_);
    for (int i = (int)threads_; i < job->helpers; ++i) {
      std::thread([this, i] { worker(i + 1); }).detach();
      ++threads_;
    }
    job_ = job;
    gen_.fetch_add(1, std::memory_order_release);
    if (sleepers_ > 0) cv_.notify_all();
  }

 private:
  // `index`: this thread's place in every job's team (1 for the first pool thread).
  void worker(int index) {
#if defined(__linux__)
    note_worker_tid();
#endif
    uint64_t seen = gen_.load(std::memory_order_acquire);
    for (;;) {
      if (spinning_allowed()) {
        g_spinning.fetch_add(1, std::memory_order_relaxed);
        spin_until(
            [&] {
              return gen_.load(std::memory_order_acquire) != seen ||
                     g_inter_op_active.load(std::memory_order_relaxed) != 0;
            },
            kHelperSpin);
        g_spinning.fetch_sub(1, std::memory_order_relaxed);
      }
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lk(mu_);
        if (gen_.load(std::memory_order_acquire) == seen) {
          ++sleepers_;
          cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != seen; });
          --sleepers_;
        }
        seen = gen_.load(std::memory_order_acquire);
        job = job_;
      }
      if (!job || index > job->helpers || !chunks_left(*job)) continue;
      job->joined.fetch_add(1, std::memory_order_relaxed);
      take_chunks(*job, index);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<Job> job_;  // the latest job (guarded by mu_)
  std::atomic<uint64_t> gen_{0};
  int sleepers_ = 0;
  int64_t threads_ = 0;
};

// Leaked on purpose: pool threads may still be waiting at exit. A forked child has none of the
// parent's threads and gets a fresh pool.
std::atomic<Pool*> g_pool{nullptr};

Pool& pool() {
  Pool* p = g_pool.load(std::memory_order_acquire);
  if (p) return *p;
  static const bool at_fork = [] {
#if !defined(_WIN32)  // no fork() on Windows
    pthread_atfork(nullptr, nullptr, [] {
      g_pool.store(nullptr, std::memory_order_release);
#if defined(__linux__)
      for (auto& tid : g_worker_tid) tid.store(0, std::memory_order_relaxed);
      g_worker_tids.store(0, std::memory_order_release);
#endif
    });
#endif
    return true;
  }();
  (void)at_fork;
  auto* fresh = new Pool;
  if (g_pool.compare_exchange_strong(p, fresh, std::memory_order_acq_rel)) return *fresh;
  delete fresh;
  return *p;
}
}  // namespace

int get_num_threads() { return g_threads.load(std::memory_order_relaxed); }
void set_num_threads(int n) { g_threads.store(n < 1 ? 1 : n, std::memory_order_relaxed); }
int intra_op_threads() {
  int n = get_num_threads();
  return t_intra_limit > 0 ? std::min(n, t_intra_limit) : n;
}
IntraOpLimit::IntraOpLimit(int n) : prev_(t_intra_limit) { t_intra_limit = n; }
IntraOpLimit::~IntraOpLimit() { t_intra_limit = prev_; }

InterOpActive::InterOpActive() { g_inter_op_active.fetch_add(1, std::memory_order_relaxed); }
InterOpActive::~InterOpActive() { g_inter_op_active.fetch_sub(1, std::memory_order_relaxed); }

bool in_parallel_region() { return t_in_region; }
int parallel_thread_index() { return t_in_region ? t_team_index : 0; }

namespace detail {
void run_chunks(int64_t begin, int64_t end, int64_t step, int64_t nchunks, int helpers, ChunkFn fn,
                const void* ctx) {
  Pool& p = pool();
  if (helpers < 1 || p.busy.exchange(true, std::memory_order_acquire)) {
    fn(ctx, begin, end);  // another call holds the pool: run inline
    return;
  }
  struct Release {
    Pool& p;
    ~Release() { p.busy.store(false, std::memory_order_release); }
  } release{p};
  auto job = std::make_shared<Job>();
  job->fn = fn;
  job->ctx = ctx;
  job->begin = begin;
  job->end = end;
  job->step = step;
  job->nchunks = nchunks;
  job->helpers = (int)std::min<int64_t>(helpers, nchunks - 1);
  const int parts = job->helpers + 1;
  job->stretches = std::make_unique<Stretch[]>((size_t)parts);
  for (int i = 0; i < parts; ++i) {
    job->stretches[i].next.store(nchunks * i / parts, std::memory_order_relaxed);
    job->stretches[i].end = nchunks * (i + 1) / parts;
  }
  look_for_room(1 + job->helpers);
  bool helper_ready = g_spinning.load(std::memory_order_relaxed) > 0;
  auto t0 = Clock::now();
  p.post(job);
  take_chunks(*job, 0);
  bool in_time = job->joined.load(std::memory_order_relaxed) > 0 || Clock::now() - t0 <= kLateJoin ||
                 g_spinning.load(std::memory_order_relaxed) == 0;
  auto finished = [&] { return job->done.load(std::memory_order_acquire) == job->nchunks; };
  const bool spin = !finished() && spinning_allowed();
  if (!finished() && !(spin && spin_until(finished, kCallerSpin))) {
    if (spin) in_time = false;  // a helper holds a chunk and has not run it for kCallerSpin
    std::unique_lock<std::mutex> lk(job->mu);
    job->caller_sleeping = true;
    job->cv.wait(lk, finished);
  }
  if (helper_ready) note_join(in_time);
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lk(job->mu);
    error = job->error;
  }
  if (error) std::rethrow_exception(error);
}
}  // namespace detail

}  // namespace cr
