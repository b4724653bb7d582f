"""The simulated provider's loopback HTTP service through the production HTTP adapter:
how long the service takes to start, and one create / status round trip."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any


def bench_payment(runs: int) -> dict[str, Any]:
    from devices.payment_http import HttpPaymentProvider
    from devices.payment_sim_process import SimServerProcess

    began = time.perf_counter()
    server = SimServerProcess(delay_s=None).start()
    started_s = time.perf_counter() - began
    creates, statuses = [], []
    try:
        provider = HttpPaymentProvider(server.url, lambda: server.api_key)
        for i in range(runs):
            t0 = time.perf_counter()
            order = provider.create_order(
                amount_yen=300,
                reference=f"BENCH{i:06d}",
                fee_code="juminhyo_copy",
                idempotency_key=uuid.uuid4().hex,
            )
            t1 = time.perf_counter()
            provider.get_status(order.provider_order_id)
            t2 = time.perf_counter()
            creates.append((t1 - t0) * 1000)
            statuses.append((t2 - t1) * 1000)
    finally:
        server.stop()
    return {
        "service_start_s": round(started_s, 3),
        "create_order_ms_median": round(statistics.median(creates), 2),
        "get_status_ms_median": round(statistics.median(statuses), 2),
        "runs": runs,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(bench_payment(50)))
