# Helpers for the S3 store tests (sourced, not itself a test: not *.sh): a
# moto_server (the S3 emulator) on a free loopback port, started here and
# stopped by the caller (s3_stop, from its EXIT trap).
#
#   s3_start DIR        moto_server on 127.0.0.1, log in DIR/moto.log; exports
#                       S3_ENDPOINT, S3_PID and test credentials
#                       (AWS_ACCESS_KEY_ID=test, AWS_SECRET_ACCESS_KEY=test,
#                       AWS_DEFAULT_REGION=us-east-1)
#   s3_new_bucket NAME  creates a bucket at $S3_ENDPOINT
#   s3_stop             stops the moto_server s3_start started
#   s3_python           a python3 that has boto3 (pyenv's, else Debian's)

s3_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

s3_python() {
  local p
  for p in python3 /usr/bin/python3; do
    if "$p" -c 'import boto3' 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "no python3 with boto3 (scripts/install-deps.sh installs python3-boto3)" >&2
  return 1
}

s3_start() {
  local dir=$1 port i
  command -v moto_server >/dev/null || { echo "moto_server is not on PATH" >&2; return 1; }
  mkdir -p "$dir"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  unset AWS_SESSION_TOKEN AWS_PROFILE
  port=$(s3_free_port)
  moto_server -H 127.0.0.1 -p "$port" </dev/null >"$dir/moto.log" 2>&1 &
  S3_PID=$!
  export S3_PID S3_ENDPOINT="http://127.0.0.1:$port"
  for i in $(seq 1 300); do
    if curl -s -o /dev/null "$S3_ENDPOINT/"; then return 0; fi
    if ! kill -0 "$S3_PID" 2>/dev/null; then
      echo "moto_server exited; its log:" >&2
      cat "$dir/moto.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "moto_server does not answer at $S3_ENDPOINT after 30s" >&2
  return 1
}

s3_new_bucket() {
  curl -sSf -X PUT --aws-sigv4 "aws:amz:${AWS_DEFAULT_REGION:-us-east-1}:s3" \
    -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    -o /dev/null "$S3_ENDPOINT/$1"
}

s3_stop() {
  if [ -n "${S3_PID:-}" ]; then
    kill "$S3_PID" 2>/dev/null
    wait "$S3_PID" 2>/dev/null
    S3_PID=
  fi
}
