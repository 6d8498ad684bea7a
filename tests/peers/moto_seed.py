#!/usr/bin/env python3
"""Test helper for the moto (EC2 emulator) peer, driven by tests/harness/moto.rs.

  moto_seed.py setup ENDPOINT
      Creates an IAM user with an admin inline policy and an access key (the only requests
      moto lets through unauthenticated, see INITIAL_NO_AUTH_ACTION_COUNT) and prints
      {"access_key_id": ..., "secret_access_key": ...}.
  moto_seed.py seed ENDPOINT ACCESS_KEY SECRET_KEY REGION COUNT PREFIX
      Runs COUNT instances named PREFIX-<i> (tag env=test) in REGION with boto3, an
      independent client, and prints what moto reports about them as JSON, so the Rust
      tests compare Skydeck's view against boto3's.
  moto_seed.py describe ENDPOINT ACCESS_KEY SECRET_KEY REGION INSTANCE_ID
      Prints {"state": ..., "tags": {...}} of one instance as boto3 sees it.
  moto_seed.py stop ENDPOINT ACCESS_KEY SECRET_KEY REGION INSTANCE_ID
      Stops one instance behind Skydeck's back (as from the AWS console) and prints its state.
  moto_seed.py instances ENDPOINT ACCESS_KEY SECRET_KEY REGION
      Prints every instance of REGION: id, state, key_name, tags, client_token, image, size,
      zone and its user data (decoded), as boto3 sees them.
  moto_seed.py key_pairs ENDPOINT ACCESS_KEY SECRET_KEY REGION
      Prints the key pairs of REGION: name, fingerprint, type, public_key.
  moto_seed.py images ENDPOINT ACCESS_KEY SECRET_KEY REGION OWNER[,OWNER...]
      Prints the available images of those owners: id, owner, name, arch, creation_date.
"""
import base64
import json
import sys

import boto3


def client(service, endpoint, region, key="setup", secret="setup"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def setup(endpoint):
    iam = client("iam", endpoint, "us-east-1")
    iam.create_user(UserName="skydeck-test")
    key = iam.create_access_key(UserName="skydeck-test")["AccessKey"]
    iam.put_user_policy(
        UserName="skydeck-test",
        PolicyName="admin",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    print(json.dumps({"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}))


def seed(endpoint, key, secret, region, count, prefix):
    ec2 = client("ec2", endpoint, region, key, secret)
    # An AMI moto knows in this region (AMI validation is on), picked deterministically.
    images = sorted(ec2.describe_images(Owners=["amazon"])["Images"], key=lambda i: i["ImageId"])
    image = images[0]["ImageId"]
    ids = []
    for i in range(int(count)):
        res = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType="t2.micro",
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": "Name", "Value": f"{prefix}-{i}"}, {"Key": "env", "Value": "test"}],
                }
            ],
        )
        ids.append(res["Instances"][0]["InstanceId"])
    out = []
    for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for inst in r["Instances"]:
            out.append(
                {
                    "id": inst["InstanceId"],
                    "region": region,
                    "name": next(t["Value"] for t in inst.get("Tags", []) if t["Key"] == "Name"),
                    "state": inst["State"]["Name"],
                    "image": inst["ImageId"],
                    "size": inst["InstanceType"],
                    "zone": inst["Placement"]["AvailabilityZone"],
                    "private_ip": inst.get("PrivateIpAddress"),
                    "public_ip": inst.get("PublicIpAddress"),
                    "launch_time": inst["LaunchTime"].isoformat(),
                }
            )
    out.sort(key=lambda m: m["name"])
    print(json.dumps(out))


def describe(endpoint, key, secret, region, instance_id):
    ec2 = client("ec2", endpoint, region, key, secret)
    inst = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
    print(json.dumps({"state": inst["State"]["Name"], "tags": tags}))


def stop(endpoint, key, secret, region, instance_id):
    ec2 = client("ec2", endpoint, region, key, secret)
    ec2.stop_instances(InstanceIds=[instance_id])
    describe(endpoint, key, secret, region, instance_id)


def instances(endpoint, key, secret, region):
    ec2 = client("ec2", endpoint, region, key, secret)
    out = []
    for r in ec2.describe_instances()["Reservations"]:
        for inst in r["Instances"]:
            attr = ec2.describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
            raw = attr.get("UserData", {}).get("Value")
            out.append(
                {
                    "id": inst["InstanceId"],
                    "state": inst["State"]["Name"],
                    "key_name": inst.get("KeyName"),
                    "tags": {t["Key"]: t["Value"] for t in inst.get("Tags", [])},
                    "client_token": inst.get("ClientToken"),
                    "image": inst["ImageId"],
                    "size": inst["InstanceType"],
                    "zone": inst["Placement"]["AvailabilityZone"],
                    "user_data": base64.b64decode(raw).decode() if raw else None,
                }
            )
    print(json.dumps(out))


def key_pairs(endpoint, key, secret, region):
    ec2 = client("ec2", endpoint, region, key, secret)
    pairs = ec2.describe_key_pairs(IncludePublicKey=True)["KeyPairs"]
    print(
        json.dumps(
            [
                {
                    "name": p["KeyName"],
                    "fingerprint": p.get("KeyFingerprint"),
                    "type": p.get("KeyType"),
                    "public_key": p.get("PublicKey"),
                }
                for p in pairs
            ]
        )
    )


def images(endpoint, key, secret, region, owners):
    ec2 = client("ec2", endpoint, region, key, secret)
    found = ec2.describe_images(Owners=owners.split(","))["Images"]
    print(
        json.dumps(
            [
                {
                    "id": i["ImageId"],
                    "owner": i["OwnerId"],
                    "name": i.get("Name", ""),
                    "arch": i.get("Architecture"),
                    "creation_date": i.get("CreationDate", ""),
                    "state": i.get("State"),
                    "public": i.get("Public"),
                }
                for i in found
            ]
        )
    )


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "setup":
        setup(*args)
    elif cmd == "seed":
        seed(*args)
    elif cmd == "describe":
        describe(*args)
    elif cmd == "stop":
        stop(*args)
    elif cmd == "instances":
        instances(*args)
    elif cmd == "key_pairs":
        key_pairs(*args)
    elif cmd == "images":
        images(*args)
    else:
        sys.exit(f"unknown command {cmd}")
