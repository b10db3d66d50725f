using System.CommandLine;
using Cd4ml.Cli;
using Cd4ml.Kubectl;

var root = new RootCommand("cd4ml: Continuous Delivery for Machine Learning on Kubernetes")
{
    CrdsCommand.Create(),
    OperatorCommand.Create(),
    LocalCommand.Create(),
    TrainCommand.Create(),
    DatasetCommand.Create(),
    ServeCommand.Create(),
    LoadCommand.Create(),
    KubectlCommand.Create(PluginConsole.ForProcess),
};
// On SIGTERM the operator finishes in-flight reconciles and the model server drains requests: give them the
// pod's default grace period rather than System.CommandLine's 2 s.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) };
return await root.Parse(args).InvokeAsync(invocation);
