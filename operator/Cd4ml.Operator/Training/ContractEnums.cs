namespace Cd4ml.Operator.Training;

/// <summary>
/// The API's enums and the training contract's are separate types with the same member names. They map by name, never
/// by number, so reordering or inserting a member on either side cannot silently turn one task, algorithm or column
/// type into another.
/// </summary>
public static class ContractEnums
{
    public static TTo ByName<TTo>(Enum value) where TTo : struct, Enum =>
        Enum.TryParse<TTo>(value.ToString(), ignoreCase: false, out var mapped) && Enum.IsDefined(mapped)
            ? mapped
            : throw new InvalidOperationException($"{value.GetType().FullName}.{value} has no member of that name in {typeof(TTo).FullName}");
}
