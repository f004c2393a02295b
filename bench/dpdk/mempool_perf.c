/* The DPDK side of `npm run bench -- mempool-bulk --vs-dpdk`: get+put bulk through one lcore's mempool cache, the
 * loop of dpdk-test's mempool_perf_autotest (keep = get bulk = put bulk), for a bounded time. dpdk-test cannot be
 * asked for one configuration: its run of every configuration takes over half an hour, 5 s each.
 *
 *   mempool_perf [EAL options] -- SECONDS BULK CACHE_SIZE [KEEP]
 *
 * KEEP (default BULK, a multiple of it): objects got, BULK at a time, before they are put back, BULK at a time.
 * Prints one line: mempool_perf cache=C bulk=B keep=K seconds=S objects=N rate_persec=R
 * (N objects were each got and put back once, as mempool_perf_autotest counts them). Built by bench/run.ts with
 * cc $(pkg-config --cflags --libs libdpdk). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <inttypes.h>

#include <rte_eal.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_errno.h>

#define ELT_SIZE 2048
#define MAX_BULK 512
#define ROUNDS_PER_CHECK 2048

int main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "mempool_perf: rte_eal_init failed\n");
		return 1;
	}
	argc -= n;
	argv += n;
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: mempool_perf [EAL options] -- SECONDS BULK CACHE_SIZE [KEEP]\n");
		return 1;
	}
	const double seconds = atof(argv[1]);
	const unsigned int bulk = (unsigned int)atoi(argv[2]);
	const unsigned int cache_size = (unsigned int)atoi(argv[3]);
	const unsigned int keep = argc == 5 ? (unsigned int)atoi(argv[4]) : bulk;
	if (seconds <= 0 || bulk == 0 || keep > MAX_BULK || keep % bulk != 0 || cache_size > RTE_MEMPOOL_CACHE_MAX_SIZE) {
		fprintf(stderr, "mempool_perf: SECONDS > 0, BULK 1..%d, KEEP a multiple of BULK up to %d, CACHE_SIZE 0..%d\n",
			MAX_BULK, MAX_BULK, RTE_MEMPOOL_CACHE_MAX_SIZE);
		return 1;
	}
	/* as mempool_perf_autotest sizes it: room for what one lcore keeps plus a full cache */
	const unsigned int size = MAX_BULK + RTE_MEMPOOL_CACHE_MAX_SIZE - 1;
	struct rte_mempool *mp = rte_mempool_create("pktio_bench", size, ELT_SIZE, cache_size, 0,
		NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	if (mp == NULL) {
		fprintf(stderr, "mempool_perf: rte_mempool_create failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	struct rte_mempool_cache *cache = rte_mempool_default_cache(mp, rte_lcore_id());
	void *objs[MAX_BULK];
	const uint64_t hz = rte_get_timer_hz();
	const uint64_t limit = (uint64_t)(seconds * (double)hz);

	uint64_t count = 0;
	uint64_t start = 0;
	uint64_t elapsed = 0;
	/* the first pass warms the cache up, then the clock starts */
	for (int pass = 0; pass < 2; pass++) {
		const uint64_t until = pass == 0 ? hz / 10 : limit;
		count = 0;
		start = rte_get_timer_cycles();
		elapsed = 0;
		while (elapsed < until) {
			for (unsigned int r = 0; r < ROUNDS_PER_CHECK; r++) {
				for (unsigned int i = 0; i < keep; i += bulk) {
					if (rte_mempool_generic_get(mp, &objs[i], bulk, cache) < 0) {
						fprintf(stderr, "mempool_perf: get failed\n");
						return 1;
					}
				}
				for (unsigned int i = 0; i < keep; i += bulk)
					rte_mempool_generic_put(mp, &objs[i], bulk, cache);
			}
			count += (uint64_t)ROUNDS_PER_CHECK * keep;
			elapsed = rte_get_timer_cycles() - start;
		}
	}
	const double secs = (double)elapsed / (double)hz;
	printf("mempool_perf cache=%u bulk=%u keep=%u seconds=%.3f objects=%" PRIu64 " rate_persec=%.0f\n",
		mp->cache_size, bulk, keep, secs, count, (double)count / secs);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
