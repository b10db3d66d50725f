using Cd4ml.Operator.Training;
using NUnit.Framework;
using ApiTypes = Cd4ml.Api.V1Alpha1;
using Contract = Cd4ml.Training;

namespace Cd4ml.Operator.Tests.Training;

/// <summary>Every member of an API enum reaches the training contract as the member of the same name, and back.</summary>
public sealed class ContractEnumsTests
{
    private static void MapsEveryMemberByName<TFrom, TTo>() where TFrom : struct, Enum where TTo : struct, Enum
    {
        foreach (var member in Enum.GetValues<TFrom>())
        {
            Assert.That(ContractEnums.ByName<TTo>(member).ToString(), Is.EqualTo(member.ToString()), $"{typeof(TFrom).Name}.{member}");
        }
    }

    [Test]
    public void ApiEnums_MapToTheTrainingContract_ByName()
    {
        MapsEveryMemberByName<ApiTypes.MlTask, Contract.MlTask>();
        MapsEveryMemberByName<ApiTypes.Algorithm, Contract.TrainingAlgorithm>();
        MapsEveryMemberByName<ApiTypes.ColumnType, Contract.ColumnType>();
        MapsEveryMemberByName<ApiTypes.SplitMethod, Contract.SplitMethod>();
        MapsEveryMemberByName<ApiTypes.MissingLabelPolicy, Contract.MissingLabelPolicy>();
        MapsEveryMemberByName<Contract.ColumnType, ApiTypes.ColumnType>();
    }

    [Test]
    public void AMemberWithoutCounterpart_IsRefused_NotMappedByNumber()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ContractEnums.ByName<Contract.MlTask>((ApiTypes.MlTask)99));
        Assert.That(error!.Message, Does.Contain("99").And.Contain("MlTask"));
    }
}
