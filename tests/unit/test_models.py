"""The two networks, batched ToTensor, prediction, and safe checkpoint loading."""

import numpy as np
import pytest
import torch
from torchvision import transforms

from torchbasics.classifier.models import (
    PlainCNN,
    ResidualBlock,
    ResidualCNN,
    build_model,
    load_checkpoint,
    model_from_checkpoint,
    predict_logits,
    save_checkpoint,
)
from torchbasics.core.errors import InputError
from torchbasics.core.tensors import images_to_tensor


def conv_layers(model):
    return [module for module in model.modules() if isinstance(module, torch.nn.Conv2d)]


@pytest.mark.parametrize("variant", ["plain", "residual"])
def test_both_variants_map_a_batch_to_ten_logits(variant):
    torch.manual_seed(0)
    model = build_model(variant)
    images = torch.rand(5, 3, 32, 32)
    assert model(images).shape == (5, 10)
    assert model.features(images).shape == (5, 100, 4, 4)  # three 2x2 pools: 32 -> 4


def test_plain_follows_the_table():
    convs = conv_layers(PlainCNN())
    assert [(conv.in_channels, conv.out_channels) for conv in convs] == [(3, 50), (50, 100), (100, 100), (100, 100)]
    assert all(conv.kernel_size == (3, 3) and conv.padding == (1, 1) for conv in convs)
    linears = [module for module in PlainCNN().modules() if isinstance(module, torch.nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linears] == [(1600, 100), (100, 10)]


def test_residual_variant_swaps_the_last_two_conv_blocks_for_residual_blocks():
    model = ResidualCNN()
    layers = list(model.features)
    blocks = [index for index, layer in enumerate(layers) if isinstance(layer, ResidualBlock)]
    assert blocks == [len(layers) - 3, len(layers) - 1]  # the last two blocks, the max-pool between them kept
    assert isinstance(layers[-2], torch.nn.MaxPool2d)
    assert len(conv_layers(model)) == len(conv_layers(PlainCNN())) + 2  # each block has two weight layers


def table_order_network(model):
    """``model``'s layers, weights shared, in the table's literal order: conv, ReLU, then max-pool."""
    layers = []
    for block in model.features:
        if isinstance(block, torch.nn.Sequential):  # conv [, pool], ReLU
            conv, *rest = block
            pooled = any(isinstance(layer, torch.nn.MaxPool2d) for layer in rest)
            layers += [conv, torch.nn.ReLU()] + ([torch.nn.MaxPool2d(2)] if pooled else [])
        else:
            layers.append(block)
    return torch.nn.Sequential(*layers, model.head)


@pytest.mark.parametrize("variant", ["plain", "residual"])
def test_pooling_before_the_relu_gives_the_table_orders_numbers_bit_for_bit(variant):
    torch.manual_seed(0)
    model = build_model(variant)
    images = torch.rand(16, 3, 32, 32)
    labels = torch.randint(0, 10, (16,))
    gradients = []
    for network in (model, table_order_network(model)):
        network.zero_grad()
        logits = network(images)
        torch.nn.functional.cross_entropy(logits, labels).backward()
        gradients.append((logits.detach(), [parameter.grad.clone() for parameter in model.parameters()]))
    (logits, grads), (table_logits, table_grads) = gradients
    assert torch.equal(logits, table_logits)
    assert all(torch.equal(mine, theirs) for mine, theirs in zip(grads, table_grads))


def test_residual_block_identity_path():
    torch.manual_seed(0)
    block = ResidualBlock(4)
    with torch.no_grad():  # silence the residual branch: what is left is the identity path, then the ReLU
        block.conv2.weight.zero_()
        block.conv2.bias.zero_()
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(block(x), torch.relu(x))
    non_negative = x.abs()  # a block's input follows a ReLU in the networks: the block passes it through
    assert torch.equal(block(non_negative), non_negative)


def test_residual_block_adds_its_branch_to_the_input():
    torch.manual_seed(0)
    block = ResidualBlock(4)
    x = torch.randn(2, 4, 8, 8)
    branch = block.conv2(torch.relu(block.conv1(x)))
    assert torch.allclose(block(x), torch.relu(branch + x))
    assert not torch.allclose(block(x), torch.relu(branch))  # the input really is added


def test_unknown_variant_is_refused():
    with pytest.raises(InputError, match="unknown model variant 'no-such-network'; registered variants: plain"):
        build_model("no-such-network")


def test_images_to_tensor_matches_totensor():
    images = np.random.default_rng(0).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    expected = torch.stack([transforms.ToTensor()(image) for image in images])
    assert torch.equal(images_to_tensor(images), expected)


def test_predict_logits_does_not_depend_on_the_batch_size():
    torch.manual_seed(0)
    model = build_model("plain")
    images = np.random.default_rng(1).integers(0, 256, size=(7, 32, 32, 3), dtype=np.uint8)
    assert torch.allclose(predict_logits(model, images, 3, "cpu"), predict_logits(model, images, 7, "cpu"), atol=1e-5)


# ----------------------------------------------------------------------------------------- checkpoints


def write_checkpoint(path, variant="plain", epoch=3):
    torch.manual_seed(0)
    model = build_model(variant)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    save_checkpoint(
        path,
        variant=variant,
        model=model,
        optimizer=optimizer,
        epoch=epoch,
        seed=546,
        config_digest="abc",
        device="cpu",
        precision="bfloat16",
    )
    return model


def test_checkpoint_round_trip(tmp_path):
    saved = write_checkpoint(tmp_path / "epoch_03.pt", "residual")
    model, state = model_from_checkpoint(tmp_path / "epoch_03.pt", "residual")
    assert (state["epoch"], state["seed"], state["config_digest"], state["device"], state["precision"]) == (
        3,
        546,
        "abc",
        "cpu",
        "bfloat16",
    )
    for name, tensor in saved.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temp file left beside it


def test_checkpoint_of_the_other_variant_is_refused(tmp_path):
    write_checkpoint(tmp_path / "epoch_03.pt", "plain")
    with pytest.raises(InputError, match=r"epoch_03.pt holds the 'plain' variant, but 'residual' was asked for"):
        load_checkpoint(tmp_path / "epoch_03.pt", "residual")


def test_weights_that_do_not_fit_the_network_are_refused(tmp_path):
    write_checkpoint(tmp_path / "epoch_03.pt", "residual")
    state = torch.load(tmp_path / "epoch_03.pt", weights_only=True)
    state["variant"] = "plain"  # a mislabelled file: the residual weights cannot load into the plain network
    torch.save(state, tmp_path / "mislabelled.pt")
    with pytest.raises(InputError, match="do not fit the 'plain' network"):
        model_from_checkpoint(tmp_path / "mislabelled.pt", "plain")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_checkpoint_gives_a_clear_error(tmp_path, damage):
    path = tmp_path / "epoch_03.pt"
    write_checkpoint(path)
    content = path.read_bytes()
    path.write_bytes(
        {"truncate": content[: len(content) // 2], "garbage": b"not a checkpoint" * 100, "empty": b""}[damage]
    )
    with pytest.raises(InputError, match="epoch_03.pt is corrupt or not a torch checkpoint"):
        load_checkpoint(path, "plain")


class Payload:
    """Anything but tensors and plain containers must not load: unpickling it could run code."""


def test_checkpoint_with_arbitrary_objects_is_not_unpickled(tmp_path):
    torch.save({"variant": "plain", "payload": Payload()}, tmp_path / "hostile.pt")
    with pytest.raises(InputError, match="hostile.pt is corrupt or not a torch checkpoint"):
        load_checkpoint(tmp_path / "hostile.pt", "plain")


def test_foreign_torch_file_is_refused(tmp_path):
    torch.save({"state_dict": build_model("plain").state_dict()}, tmp_path / "foreign.pt")
    with pytest.raises(InputError, match="not a torchbasics checkpoint: it lacks variant"):
        load_checkpoint(tmp_path / "foreign.pt", "plain")


def test_missing_checkpoint(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere.pt", "plain")
