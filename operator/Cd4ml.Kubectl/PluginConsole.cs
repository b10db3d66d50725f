using Spectre.Console;

namespace Cd4ml.Kubectl;

/// <summary>
/// Where the plugin writes: <see cref="Console"/> renders trees and tables onto <see cref="Output"/> (which also takes
/// help text); errors go to <see cref="Error"/>. <see cref="Interactive"/> allows live redraws.
/// </summary>
public sealed record PluginConsole(IAnsiConsole Console, TextWriter Output, TextWriter Error, bool Interactive)
{
    /// <summary>Width used when output goes to a pipe or file, where there is no terminal to wrap for.</summary>
    public const int PipedWidth = 200;

    /// <summary>
    /// The process's console: colour, symbols and live redraws on a terminal; plain text (no escape codes) when stdout
    /// is redirected, NO_COLOR is set or TERM is dumb.
    /// </summary>
    public static PluginConsole ForProcess()
    {
        var plain = System.Console.IsOutputRedirected
                    || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
                    || Environment.GetEnvironmentVariable("TERM") == "dumb";
        return plain
            ? Plain(System.Console.Out, System.Console.Error)
            : new PluginConsole(AnsiConsole.Console, System.Console.Out, System.Console.Error, Interactive: true);
    }

    /// <summary>Plain text into <paramref name="output"/>: no ANSI codes, no colours, no live display.</summary>
    public static PluginConsole Plain(TextWriter output, TextWriter error, int width = PipedWidth)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = width;
        console.Profile.Capabilities.Unicode = true;
        return new PluginConsole(console, output, error, Interactive: false);
    }
}
