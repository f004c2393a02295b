#!/bin/bash
# npm run test:vm: provision the rig if needed, then run the VM tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/vm/provision.sh
npx tsc -p tsconfig.json
exec npx tap --allow-incomplete-coverage --disable-coverage --timeout 1800 test/vm/*.vm.ts
