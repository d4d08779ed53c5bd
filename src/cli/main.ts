// The `vmio` command line: dispatches subcommands (run, image, bench) and prints help.

const HELP = `vmio — a virtual machine monitor for studying I/O virtualization

usage: vmio <command> [options]

commands:
  run      boot a guest (default: the reference guest) with the console attached
  image    build or locate the reference guest image (vmio image build | path)
  bench    run a benchmark (vmio bench NAME; NAME is cpu or boot)

vmio <command> --help tells more about each command.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`vmio: unknown command '${cmd}'. Run 'vmio --help' for the list of commands.\n`);
      void rest;
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
