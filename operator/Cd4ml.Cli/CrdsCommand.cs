using System.CommandLine;
using Cd4ml.Api;
using Cd4ml.Api.Schema;

namespace Cd4ml.Cli;

/// <summary>`cd4ml crds`: writes (or checks) the CRD YAML generated from the API types.</summary>
internal static class CrdsCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Folder to write one YAML file per CRD into",
            DefaultValueFactory = _ => new DirectoryInfo("crds"),
        };
        var check = new Option<bool>("--check")
        {
            Description = "Write nothing; exit 1 when the folder differs from the generated CRDs",
        };
        var command = new Command("crds", "Generate the CustomResourceDefinitions from the C# API types") { output, check };
        command.SetAction(parse => Run(parse.GetValue(output)!, parse.GetValue(check)));
        return command;
    }

    private static int Run(DirectoryInfo folder, bool checkOnly)
    {
        var files = CrdGenerator.GenerateFiles(ApiKinds.All);
        if (checkOnly)
        {
            var stale = files.Where(f =>
            {
                var path = Path.Combine(folder.FullName, f.Key);
                return !File.Exists(path) || File.ReadAllText(path) != f.Value;
            }).Select(f => f.Key).ToList();
            foreach (var name in stale)
            {
                Console.Error.WriteLine($"{Path.Combine(folder.FullName, name)} is stale: run `make crds`");
            }

            return stale.Count == 0 ? 0 : 1;
        }

        folder.Create();
        foreach (var (name, yaml) in files)
        {
            File.WriteAllText(Path.Combine(folder.FullName, name), yaml);
            Console.WriteLine($"wrote {Path.Combine(folder.Name, name)}");
        }

        return 0;
    }
}
