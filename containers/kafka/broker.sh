#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft: broker and controller in one
# process) on loopback, for the worker's integration tests and the README's
# walk-through. Jars come from Maven Central (pom.xml); nothing else.
#
#   containers/kafka/broker.sh install   # mvn copies the jars (once)
#   containers/kafka/broker.sh start     # formats a fresh log dir, starts, waits until it listens
#   containers/kafka/broker.sh stop
#   containers/kafka/broker.sh topics [PARTITIONS]  # the worker's default topics (4 input partitions)
#   containers/kafka/broker.sh produce TOPIC        # one record a line of stdin
#   containers/kafka/broker.sh consume TOPIC [N]    # print key and value, from the start; stop after N
#
# EDGEMINE_KAFKA_HOME (default target/kafka) holds jars, data, log and pid;
# EDGEMINE_KAFKA_PORT (default 19092) is the client port, the next one the
# controller's. Clients connect to 127.0.0.1:$EDGEMINE_KAFKA_PORT.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
home=${EDGEMINE_KAFKA_HOME:-$root/target/kafka}
port=${EDGEMINE_KAFKA_PORT:-19092}
controller_port=$((port + 1))

install() {
    if [ -f "$home/libs/.complete" ]; then return; fi
    command -v java >/dev/null || { echo "broker.sh: java (17+) is needed: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
    command -v mvn >/dev/null || { echo "broker.sh: Maven is needed to fetch the jars: apt-get install maven" >&2; exit 1; }
    rm -rf "$home/libs"
    mvn -B -q -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home/libs"
    touch "$home/libs/.complete"
}

start() {
    install
    stop
    rm -rf "$home/data"
    mkdir -p "$home/data"
    cat > "$home/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$home/data
num.partitions=4
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.consumer.min.session.timeout.ms=1000
group.min.session.timeout.ms=1000
PROPS
    local java=(java -Xms256m -Xmx512m -cp "$home/libs/*")
    "${java[@]}" kafka.tools.StorageTool format -t edgemineTestCluster0001 -c "$home/server.properties" > "$home/format.log" 2>&1 \
        || { cat "$home/format.log" >&2; exit 1; }
    nohup "${java[@]}" kafka.Kafka "$home/server.properties" > "$home/broker.log" 2>&1 &
    echo $! > "$home/broker.pid"
    for _ in $(seq 1 120); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "broker.sh: Kafka $(ls "$home/libs" | sed -n 's/^kafka_2.13-\(.*\)\.jar$/\1/p') listening on 127.0.0.1:$port (log: $home/broker.log)"
            return
        fi
        if ! kill -0 "$(cat "$home/broker.pid")" 2>/dev/null; then
            tail -30 "$home/broker.log" >&2
            echo "broker.sh: the broker exited" >&2
            exit 1
        fi
        sleep 0.5
    done
    tail -30 "$home/broker.log" >&2
    echo "broker.sh: the broker did not listen on 127.0.0.1:$port within 60 s" >&2
    exit 1
}

stop() {
    local pidfile="$home/broker.pid"
    [ -f "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

# Kafka's own command-line tools, from the same jars.
tool() {
    java -cp "$home/libs/*" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn "$@" --bootstrap-server "127.0.0.1:$port"
}

topics() {
    local partitions=${1:-4}
    tool org.apache.kafka.tools.TopicCommand --create --if-not-exists --topic edgemine.documents --partitions "$partitions"
    tool org.apache.kafka.tools.TopicCommand --create --if-not-exists --topic edgemine.extractions --partitions "$partitions"
    tool org.apache.kafka.tools.TopicCommand --create --if-not-exists --topic edgemine.dead-letter --partitions 1
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    topics) topics "${2:-}" ;;
    produce) tool org.apache.kafka.tools.ConsoleProducer --topic "${2:?topic}" ;;
    consume)
        tool org.apache.kafka.tools.consumer.ConsoleConsumer --topic "${2:?topic}" --from-beginning \
            --property print.key=true ${3:+--max-messages "$3"} ;;
    *) echo "usage: $0 install|start|stop|topics [PARTITIONS]|produce TOPIC|consume TOPIC [N]" >&2; exit 2 ;;
esac
