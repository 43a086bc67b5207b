# Targets a newcomer can guess; each is one or two commands.
.PHONY: build run test bench soak fuzz lint clean

build:
	go build -o bin/consul ./cmd/consul

# A single server that elects itself, with its state in ./data.
run: build
	./bin/consul agent -server -bootstrap -data-dir ./data -node local -bind 127.0.0.1 -client 127.0.0.1

test:
	go vet ./...
	go test -race -count=1 -timeout 20m ./...

# The snapshot benchmark against a real agent process, then the archive
# package's own benchmarks.
bench: build
	go run ./bench/snapshotbench -consul bin/consul -keys 100000
	go test -run=^$$ -bench=. -benchmem ./snapshot/...

# Ten minutes of saves every second among concurrent writers against a
# real agent process: no lost write, an exact last archive, a flat RSS.
soak: build
	go run ./bench/snapshotsoak -consul bin/consul -duration 10m

# -fuzz takes a regexp, and FuzzRead would also match FuzzReadState: go test
# refuses to fuzz more than one target at once, hence the anchors.
fuzz:
	go test -run=^$$ -fuzz=^FuzzRead$$ -fuzztime=10m ./snapshot
	go test -run=^$$ -fuzz=^FuzzReadState$$ -fuzztime=10m ./snapshot
	go test -run=^$$ -fuzz=^FuzzEntries$$ -fuzztime=10m ./snapshot
	go test -run=^$$ -fuzz=^FuzzStream$$ -fuzztime=10m ./snapshot
	go test -run=^$$ -fuzz=^FuzzDirEntryMsgpack$$ -fuzztime=2m ./structs
	go test -run=^$$ -fuzz=^FuzzRender$$ -fuzztime=2m ./consul/preparedquery

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -l: not formatted:"; echo "$$out"; exit 1; fi
	go vet ./...

clean:
	rm -rf bin data
