using System.CommandLine;
using Cd4ml.Cli;

var root = new RootCommand("cd4ml: Continuous Delivery for Machine Learning on Kubernetes")
{
    CrdsCommand.Create(),
    OperatorCommand.Create(),
    LocalCommand.Create(),
    TrainCommand.Create(),
    DatasetCommand.Create(),
    ServeCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
