"""The production profile on one machine: PostgreSQL (the clinic's records and Rasa's tracker
store), Redis (Rasa's lock store), N action servers, N Rasa servers and N gateways, behind nginx.

    python -m stack.cluster [--instances 2]      (`make cluster`; Ctrl-C stops everything)

Every process listens on loopback. nginx balances three pools on the well-known ports: the
gateways on 8000 (what patients' platforms and the website reach), Rasa on 5005 (what the gateways
call) and the action servers on 5055 (what Rasa calls). Any Rasa instance can take any message:
the conversation is in PostgreSQL and Redis makes sure no two instances handle messages of one
conversation at the same time. The same roles map onto Kubernetes (README "Scaling out").
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from stack.postgres import PostgresServer, free_port
from stack.processes import (
    ROOT,
    ProcessGroup,
    Service,
    action_server,
    gateway_server,
    rasa_server,
    serve_until_interrupted,
)
from stack.redis import RedisServer

MODEL = ROOT / "models" / "current.tar.gz"
PRODUCTION_ENDPOINTS = ROOT / "endpoints.production.yml"

NGINX_CONF = """\
# Written by stack/cluster.py for one run; the same upstream and proxy settings suit a real server.
worker_processes 1;
worker_rlimit_nofile 16384;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    # Requests carry patients' messages and phone numbers: nginx keeps no access log.
    access_log off;
    server_tokens off;
    # Bodies and replies stay in memory: nothing a patient said is written to nginx's disk.
    client_max_body_size 256k;
    client_body_buffer_size 256k;
    proxy_buffers 16 64k;
    proxy_max_temp_file_size 0;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    # nginx is the edge here: the gateways see the address that connected to it, never one a
    # client wrote itself (uvicorn trusts X-Forwarded-For from FORWARDED_ALLOW_IPS, 127.0.0.1;
    # the gateways limit requests per address with it). Behind another balancer, use
    # $proxy_add_x_forwarded_for with set_real_ip_from instead.
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_connect_timeout 2s;
    # Longer than any wait behind it (the gateway waits RASA_TIMEOUT_SECONDS for Rasa, Rasa
    # ACTION_TIMEOUT_SECONDS for an action): the process behind answers, not nginx.
    proxy_read_timeout 200s;
    # A request that could not reach an instance (it is down) goes to the next one; a slow
    # answer is not a failure. A POST that reached an instance is never sent twice. Instances
    # are never taken out of the pool (max_fails=0): a refused connection costs nothing on
    # loopback, and the next request tries again.
    proxy_next_upstream error;
{upstreams}
}}
"""

UPSTREAM = """\
    upstream {name} {{
{servers}
        keepalive 32;
        # Shorter than the instances' own idle timeout (Sanic's and uvicorn's 5 s), so nginx
        # never reuses a connection the instance is closing.
        keepalive_timeout 4s;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://{name}; }}
    }}
"""


def nginx_conf(directory: Path, pools: dict[str, tuple[int, list[int]]]) -> str:
    """nginx's configuration: for each pool, its listening port and its instances' ports."""
    upstreams = "".join(
        UPSTREAM.format(
            name=name,
            port=port,
            servers="\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in ports),
        )
        for name, (port, ports) in pools.items()
    )
    return NGINX_CONF.format(dir=directory, upstreams=upstreams)


@dataclass
class Cluster:
    """The whole production profile on loopback, with its ports and databases."""

    instances: int = 2
    directory: Path = ROOT / "var" / "cluster"
    gateway_port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    model: Path = MODEL
    extra_gateway_env: dict[str, str] = field(default_factory=dict)
    extra_actions_env: dict[str, str] = field(default_factory=dict)
    postgres: PostgresServer | None = None
    redis: RedisServer | None = None
    clinic_url: str = ""
    tracker_url: str = ""
    group: ProcessGroup | None = None
    ports: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def on_free_ports(cls, directory: Path, **settings) -> Cluster:
        """Two of each on free loopback ports (tests: beside `make run` or another cluster)."""
        return cls(
            instances=2,
            directory=directory,
            gateway_port=free_port(),
            rasa_port=free_port(),
            actions_port=free_port(),
            **settings,
        )

    def start_data(self) -> None:
        """PostgreSQL with the clinic's and the tracker's databases, and Redis."""
        from clinic.store import upgrade_database

        self.postgres = PostgresServer.start()
        self.clinic_url = self.postgres.create_database("clinic")
        self.tracker_url = self.postgres.create_database("tracker")
        upgrade_database(self.clinic_url)
        self.redis = RedisServer.start()

    def rasa_env(self) -> dict[str, str]:
        """What endpoints.production.yml reads."""
        assert self.postgres is not None and self.redis is not None
        return {
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "TRACKER_DB_HOST": "127.0.0.1",
            "TRACKER_DB_PORT": str(self.postgres.port),
            "TRACKER_DB_NAME": "tracker",
            "TRACKER_DB_USER": self.postgres.user,
            "TRACKER_DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.redis.port),
            "REDIS_PASSWORD": "",
            "REDIS_DB": "0",
        }

    def services(self) -> list[Service]:
        """N of each process, then nginx in front of them."""
        self.ports = {
            kind: [free_port() for _ in range(self.instances)]
            for kind in ("actions", "rasa", "gateway")
        }
        services: list[Service] = []
        for i, port in enumerate(self.ports["actions"]):
            actions = action_server(port)
            actions.name = f"actions{i + 1}"
            actions.env.update({"DATABASE_URL": self.clinic_url, **self.extra_actions_env})
            services.append(actions)
        for i, port in enumerate(self.ports["rasa"]):
            rasa = rasa_server(self.model, port, PRODUCTION_ENDPOINTS)
            rasa.name = f"rasa{i + 1}"
            rasa.env.update(self.rasa_env())
            services.append(rasa)
        for i, port in enumerate(self.ports["gateway"]):
            gateway = gateway_server(
                port,
                {
                    "DATABASE_URL": self.clinic_url,
                    "TRACKER_DATABASE_URL": self.tracker_url,
                    "RASA_URL": f"http://127.0.0.1:{self.rasa_port}",
                    "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.gateway_port}",
                    **self.extra_gateway_env,
                },
            )
            gateway.name = f"gateway{i + 1}"
            services.append(gateway)
        nginx_dir = self.directory / "nginx"
        nginx_dir.mkdir(parents=True, exist_ok=True)
        conf = nginx_dir / "nginx.conf"
        conf.write_text(
            nginx_conf(
                nginx_dir,
                {
                    "gateways": (self.gateway_port, self.ports["gateway"]),
                    "rasa": (self.rasa_port, self.ports["rasa"]),
                    "actions": (self.actions_port, self.ports["actions"]),
                },
            )
        )
        services.append(
            Service(
                "nginx",
                ["/usr/sbin/nginx", "-c", str(conf), "-p", str(nginx_dir)],
                f"http://127.0.0.1:{self.gateway_port}/health",
            )
        )
        return services

    def start(self, log=None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.start_data()
        self.group = ProcessGroup(self.services(), log=log)
        try:
            self.group.start(timeout_seconds=360)
        except BaseException:
            self.stop()
            raise

    def service(self, name: str) -> Service:
        assert self.group is not None
        return next(s for s in self.group.services if s.name == name)

    def stop_services(self, names: list[str]) -> None:
        """Stop the named processes (an outage, in tests)."""
        for name in names:
            self.service(name).stop()

    def start_services(self, names: list[str], timeout_seconds: float = 240) -> None:
        """Start the named processes again and wait until each answers."""
        assert self.group is not None
        self.group.start_again([self.service(name) for name in names], timeout_seconds)

    def restart(self, names: list[str]) -> None:
        """Stop the named processes, start them again and wait until each answers."""
        self.stop_services(names)
        self.start_services(names)

    def stop(self) -> None:
        if self.group is not None:
            self.group.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument(
        "--gateway-port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8000))
    )
    args = parser.parse_args()
    if not MODEL.exists():
        print("error: no trained model: run `make train`", file=sys.stderr)
        return 1
    cluster = Cluster(instances=args.instances, gateway_port=args.gateway_port)
    return serve_until_interrupted(
        f"Starting PostgreSQL, Redis, {args.instances} action servers, {args.instances} Rasa "
        f"servers, {args.instances} gateways and nginx (Rasa takes about a minute)...",
        cluster.start,
        lambda: _banner(cluster),
        lambda: cluster.group.first_exited() if cluster.group else None,
        cluster.stop,
    )


def _banner(cluster: Cluster) -> str:
    return (
        f"\n  The cluster is ready.\n"
        f"    Gateways (nginx)  http://127.0.0.1:{cluster.gateway_port}  "
        f"-> {cluster.ports['gateway']}\n"
        f"    Rasa (nginx)      http://127.0.0.1:{cluster.rasa_port}  -> {cluster.ports['rasa']}\n"
        f"    Actions (nginx)   http://127.0.0.1:{cluster.actions_port}  "
        f"-> {cluster.ports['actions']}\n"
        f"    PostgreSQL        {cluster.tracker_url.rsplit('/', 1)[0]}  (clinic, tracker)\n"
        f"    Redis             {cluster.redis.url if cluster.redis else ''}\n"
        f"  Press Ctrl-C to stop everything.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
