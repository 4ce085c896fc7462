#!/usr/bin/env node
'use strict';
require('../dist/node/cli.cjs')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
