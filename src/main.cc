#include "ipinsights/cli/commands.h"

int main(int argc, char** argv) { return ipinsights::RunCli(argc, argv); }
