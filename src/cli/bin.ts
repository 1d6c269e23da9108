#!/usr/bin/env node
// The executable shim: everything else is in main.ts, where tests can call it.
import { main, processContext } from './main.js';

process.exitCode = await main(process.argv.slice(2), processContext());
