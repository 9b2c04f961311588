<?php
// One integrator's session against openpws through PHP's SoapClient (ext-soap), which much PSA
// integration code uses. Every request is built by SoapClient from the served WSDL (member names,
// namespaces and order); nothing here writes XML.
//
// Usage: php scenario.php CONFIG, where CONFIG is a JSON object: wsdl (the ?wsdl address), account,
// first and second ({login, password}: two users with every permission), monday (a Monday,
// YYYY-MM-DD, of a week the account may book). Prints one JSON object (see report() below) and
// exits 0 unless the scenario could not run at all.
//
// Every operation of the contract is called at least once: adding an operation to the contract is
// one more $call() line below (and one more line in tests/stacks/test_stacks.py). The steps are
// those of scenario.js, in the same order.
declare(strict_types=1);

final class PwsFaultRaised extends Exception
{
    public function __construct(string $operation, public readonly object $detail)
    {
        parent::__construct("$operation: PwsFault");
    }
}

final class Scenario
{
    /** @var list<array{operation: string, user: string, outcome: string}> */
    public array $calls = [];
    /** @var list<string> */
    public array $failures = [];
    /** @var list<array{kind: string, code: string, uid: string}> */
    public array $entities = [];
    /** @var list<string> */
    public array $operations = [];
    private SoapClient $client;

    public function __construct(private readonly array $config)
    {
    }

    public function check(bool $condition, string $what): void
    {
        if (!$condition) {
            $this->failures[] = $what;
        }
    }

    /**
     * The items of an ArrayOfX member. SOAP_SINGLE_ELEMENT_ARRAYS makes even one item a list in
     * answers; a fault's detail is not read by the WSDL's types, so there one item is an object.
     */
    public static function items(?object $wrapper, string $name): array
    {
        $found = $wrapper === null ? null : ($wrapper->$name ?? null);
        return $found === null ? [] : (is_array($found) ? $found : [$found]);
    }

    // Uids are Int64 (openpws's are 2^60 + n): SoapClient reads xs:long into PHP's 64-bit int,
    // exactly; a float here would mean it had not.
    public function uid(mixed $value, string $what): mixed
    {
        $this->check(is_int($value) && $value > 2 ** 53, "$what: " . var_export($value, true)
            . ' is not an exact Int64 Uid above 2^53');
        return $value;
    }

    public function made(string $kind, string $code, mixed $uid): object
    {
        $this->entities[] = ['kind' => $kind, 'code' => $code, 'uid' => (string) $this->uid($uid, "$kind $code Uid")];
        return (object) ['code' => $code, 'uid' => $uid];
    }

    private static function numbers(?object $holder): array
    {
        $messages = $holder === null ? null : ($holder->Messages ?? null);
        return array_map(fn (object $m): int => (int) $m->ErrorNumber, self::items($messages, 'PwsMessage'));
    }

    /**
     * One call: the outcome is recorded as "Status[ numbers]", "PwsFault numbers" or "SOAP fault CODE".
     * Answers with a Status come back; a PwsFault is thrown as PwsFaultRaised with the detail
     * SoapClient parsed.
     */
    public function call(string $operation, object $user, array $members = []): object
    {
        $request = ['serviceRequest' => ['SessionTicket' => $user->ticket] + $members];
        try {
            $answer = $this->client->__soapCall($operation, [$request])->{"{$operation}Result"};
        } catch (SoapFault $fault) {
            $detail = isset($fault->detail) && is_object($fault->detail) ? ($fault->detail->PwsFault ?? null) : null;
            if ($detail === null) {
                $this->calls[] = ['operation' => $operation, 'user' => $user->name, 'outcome' => "SOAP fault {$fault->faultcode}"];
                throw $fault;
            }
            $outcome = implode(' ', ['PwsFault', ...self::numbers($detail)]);
            $this->calls[] = ['operation' => $operation, 'user' => $user->name, 'outcome' => $outcome];
            throw new PwsFaultRaised($operation, $detail);
        }
        $outcome = implode(' ', [$answer->Status, ...self::numbers($answer)]);
        $this->calls[] = ['operation' => $operation, 'user' => $user->name, 'outcome' => $outcome];
        return $answer;
    }

    public function expectFault(string $operation, object $user, array $members): ?object
    {
        try {
            $this->call($operation, $user, $members);
        } catch (PwsFaultRaised $raised) {
            return $raised->detail;
        }
        return null;
    }

    public function run(): void
    {
        $config = $this->config;
        $this->client = new SoapClient($config['wsdl'], [
            'cache_wsdl' => WSDL_CACHE_NONE, 'exceptions' => true, 'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
        ]);
        // "PwsXResponse PwsX(PwsX $parameters)": the operation is the function's name.
        foreach ($this->client->__getFunctions() as $signature) {
            preg_match('/^\S+ (\w+)\(/', $signature, $match);
            $this->operations[] = $match[1];
        }
        sort($this->operations);
        $call = $this->call(...);
        $items = self::items(...);
        $check = $this->check(...);
        $first = (object) ['name' => 'first', 'ticket' => null];
        $second = (object) ['name' => 'second', 'ticket' => null];
        $tag = 'php-' . getmypid();

        // Log in as two users of one account.
        foreach ([[$first, $config['first']], [$second, $config['second']]] as [$user, $who]) {
            $login = $call('PwsAuthenticate', (object) ['name' => $user->name, 'ticket' => null],
                ['AccountCode' => $config['account'], 'UserName' => $who['login'], 'Password' => $who['password']]);
            $user->ticket = $login->SessionTicket;
            $user->uid = $this->uid($login->UserIdentity->UserUid, "{$user->name} user's UserUid");
        }

        // A client tree, read back by Uid and by search.
        $parentName = "Stack Holdings $tag";
        $saved = $call('PwsSaveClient', $first, ['Client' => ['ClientName' => $parentName]]);
        $parent = $this->made('client', $saved->ClientIdentity->ClientNumber, $saved->ClientIdentity->ClientUid);
        $saved = $call('PwsSaveClient', $first,
            ['Client' => ['ClientName' => "Stack Unit $tag", 'ParentClientIdentity' => ['ClientUid' => $parent->uid]]]);
        $child = $this->made('client', $saved->ClientIdentity->ClientNumber, $saved->ClientIdentity->ClientUid);
        $clients = $call('PwsGetClient', $first, ['ClientIdentities' => ['PwsClientRef' => [['ClientUid' => $child->uid]]]]);
        $childDetail = $items($clients->Clients, 'PwsClientElement')[0]->ClientDetail ?? null;
        $check($childDetail !== null && $childDetail->ClientNumber === $child->code && $childDetail->ClientUid === $child->uid,
            'PwsGetClient by Uid answers that client');
        $check($childDetail !== null && $childDetail->ParentClientIdentity->ClientUid === $parent->uid,
            'PwsGetClient: the parent Uid is the one saved');
        $listed = $call('PwsGetClientList', $first, ['QueryString' => $parentName]);
        $check(in_array($parent->uid, array_map(fn ($c) => $c->ClientUid, $items($listed->Clients, 'PwsClientSummary')), true),
            'PwsGetClientList finds the parent with its exact Uid');

        // An engagement, a project and a role, each made by Uid reference to its parent.
        $engagementName = "Stack rollout $tag";
        $saved = $call('PwsSaveEngagement', $first,
            ['Engagement' => ['ClientIdentity' => ['ClientUid' => $child->uid], 'EngagementName' => $engagementName]]);
        $engagement = $this->made('engagement', $saved->EngagementIdentity->EngagementCode,
            $saved->EngagementIdentity->EngagementUid);
        $engagements = $call('PwsGetEngagement', $first,
            ['EngagementIdentities' => ['PwsEngagementRef' => [['EngagementUid' => $engagement->uid]]]]);
        $element = $items($engagements->Engagements, 'PwsEngagementElement')[0] ?? null;
        $check($element !== null && $element->EngagementDetail->EngagementCode === $engagement->code,
            'PwsGetEngagement by Uid answers that engagement');
        $check($element !== null && $element->EngagementDetail->ClientIdentity->ClientUid === $child->uid,
            'PwsGetEngagement: its client Uid is exact');
        $found = $call('PwsGetEngagementList', $first, ['QueryString' => $engagementName]);
        $check(in_array($engagement->uid, array_map(fn ($e) => $e->EngagementUid,
            $items($found->Engagements, 'PwsEngagementSummary')), true),
            'PwsGetEngagementList finds the engagement with its exact Uid');
        $saved = $call('PwsSaveProject', $first, ['Mode' => 'R', 'Project' => [
            'EngagementIdentity' => ['EngagementUid' => $engagement->uid], 'ProjectName' => "Stack phase 1 $tag",
            'OpenDate' => "{$config['monday']}T00:00:00Z"]]);
        $project = $this->made('project', $saved->ProjectIdentity->ProjectCode, $saved->ProjectIdentity->ProjectUid);
        $projects = $call('PwsGetProjectList', $first, ['QueryString' => "Stack phase 1 $tag"]);
        $check(in_array($project->uid, array_map(fn ($p) => $p->ProjectUid, $items($projects->Projects, 'PwsProjectSummary')), true),
            'PwsGetProjectList finds the project with its exact Uid');

        // The engagement's insert made its first contract line item; a second one, fixed price,
        // takes the project, and both are read back: the project is on the second only.
        $saved = $call('PwsSaveContractLineItem', $first, ['ContractLineItem' => [
            'ContractLineItemName' => "Stack fixed fee $tag", 'EngagementIdentity' => ['EngagementUid' => $engagement->uid],
            'TimeContractTerms' => 'F', 'PurchaseOrderNumber' => "PO-$tag"]]);
        $line = $this->made('contract line item', $saved->ContractLineItemIdentity->ContractLineItemCode,
            $saved->ContractLineItemIdentity->ContractLineItemUid);
        $call('PwsSaveProject', $first, ['Mode' => 'R', 'Project' => ['ProjectUid' => $project->uid,
            'ContractLineItemIdentity' => ['ContractLineItemUid' => $line->uid]]]);
        $firstLineCode = "{$engagement->code}-CL1";
        $lines = $call('PwsGetContractLineItem', $first, ['ContractLineItemIdentities' => ['PwsContractLineItemRef' => [
            ['ContractLineItemUid' => $line->uid], ['ContractLineItemCode' => $firstLineCode]]]]);
        [$readLine, $firstLine] = $items($lines->ContractLineItems, 'PwsContractLineItemElement') + [null, null];
        $lineDetail = $readLine?->ContractLineItemDetail;
        $check($lineDetail !== null && $lineDetail->ContractLineItemUid === $line->uid
            && $lineDetail->ContractLineItemCode === $line->code,
            'PwsGetContractLineItem by Uid answers that contract line item, Uid exact');
        $check($lineDetail !== null && $lineDetail->EngagementIdentity->EngagementUid === $engagement->uid,
            'PwsGetContractLineItem: its engagement Uid is exact');
        $check($lineDetail !== null && $lineDetail->TimeContractTerms === 'F' && $lineDetail->CostContractTerms === 'T'
            && $lineDetail->PurchaseOrderNumber === "PO-$tag", 'PwsGetContractLineItem: the terms and PO number saved');
        $check($readLine !== null && array_map(fn ($p) => $p->ProjectUid, $items($readLine->Projects, 'PwsProjectSummary'))
            === [$project->uid], 'PwsGetContractLineItem: the project moved onto the second contract line item, Uid exact');
        $check($firstLine !== null && $firstLine->ContractLineItemDetail->ContractLineItemCode === $firstLineCode
            && is_int($firstLine->ContractLineItemDetail->ContractLineItemUid)
            && $firstLine->ContractLineItemDetail->ContractLineItemUid > 2 ** 53
            && $items($firstLine->Projects, 'PwsProjectSummary') === [],
            'PwsGetContractLineItem: the first contract line item, by code, has no project left');

        // Resources are the account's users: the second user is found in the list by its Uid, read,
        // and requested on the role.
        $resources = $call('PwsGetResourceList', $first);
        $listedResources = $items($resources->Resources, 'PwsResourceSummary');
        $listedUids = array_map(fn ($r) => $r->ResourceUid, $listedResources);
        $check($listedUids !== [] && array_filter($listedUids, fn ($u) => !is_int($u) || $u <= 2 ** 53) === [],
            'PwsGetResourceList: every ResourceUid is an exact Int64 above 2^53');
        $found = array_search($second->uid, $listedUids, true);
        $resource = $found === false ? null : $listedResources[$found];
        $check($resource !== null && in_array($first->uid, $listedUids, true),
            'PwsGetResourceList finds both users by their exact Uids');
        $readResources = $call('PwsGetResource', $first,
            ['ResourceIdentities' => ['PwsResourceRef' => [['ResourceUid' => $second->uid]]]]);
        $readResource = $items($readResources->Resources, 'PwsResourceElement')[0] ?? null;
        $check($readResource !== null && $resource !== null && $readResource->ResourceDetail->ResourceUid === $second->uid
            && $readResource->ResourceDetail->ResourceDisplayName === $resource->ResourceDisplayName
            && ($readResource->ResourceDetail->ResourceReferenceSystemId ?? null) === ($resource->ResourceReferenceSystemId ?? null),
            'PwsGetResource by Uid answers the resource listed, Uid exact');
        $check($readResource !== null && new DateTimeImmutable($readResource->LastUpdatedTimestamp)
            <= new DateTimeImmutable($readResources->ServerTimestampUtc),
            "PwsGetResource: LastUpdatedTimestamp is a date, not after the answer's ServerTimestampUtc");
        $saved = $call('PwsSaveProjectRole', $first, ['Mode' => 'R', 'ProjectIdentity' => ['ProjectUid' => $project->uid],
            'ProjectRole' => ['ExternalSystemIdentifier' => "R-$tag", 'ResourceIdentity' => ['ResourceUid' => $second->uid],
                'RoleName' => 'Architect']]);
        $role = $this->made('role', "R-$tag", $saved->ProjectRoleIdentity->ProjectRoleUid);

        // Hours on the role, read back as a requester plans them, with the project's roles and with the project.
        $monday = new DateTimeImmutable("{$config['monday']}T00:00:00Z");
        $buckets = array_map(fn (int $w) => ['BucketStartDate' => $monday->modify("+$w week")->format('Y-m-d\TH:i:s\Z'),
            'SchedulingMode' => 'W', 'WeeklyMinutes' => 600], [0, 1]);
        $call('PwsRequestOrBookRoleHours', $first, ['Mode' => 'R', 'ProjectRoles' => ['PwsProjectRoleHours' => [[
            'ProjectRoleIdentity' => ['ProjectRoleUid' => $role->uid], 'HoursBuckets' => ['PwsProjectRoleHoursBucket' => $buckets]]]]]);
        // The window runs from this week to the last week with hours; nothing is booked yet.
        $scheduling = $call('PwsGetResourceSchedulingRoleData', $first, ['MinimumWeekCount' => 1,
            'ProjectIdentity' => ['ProjectUid' => $project->uid], 'RequestOrScheduleMode' => 'R',
            'StartDate' => "{$config['monday']}T00:00:00Z"]);
        $schedule = $items($scheduling->ProjectRoles, 'PwsProjectRoleSchedule')[0] ?? null;
        $weeksOf = fn (?object $held) => array_map(fn ($b) => substr($b->BucketStartDate, 0, 10) . " {$b->WeeklyMinutes}",
            $items($held, 'PwsProjectRoleHoursBucket'));
        $weekDays = array_map(fn (array $b) => substr($b['BucketStartDate'], 0, 10), $buckets);
        $check($scheduling->RequestOrScheduleMode === 'R' && $scheduling->WeekCount === 2
            && substr($scheduling->EndDate, 0, 10) === $weekDays[1],
            'PwsGetResourceSchedulingRoleData: the window is the two weeks with hours, read as requester');
        $check($schedule !== null && $schedule->ProjectRoleIdentity->ProjectRoleUid === $role->uid
            && $schedule->ProjectIdentity->ProjectUid === $project->uid,
            'PwsGetResourceSchedulingRoleData: the role and project Uids are exact');
        $check($schedule !== null && $weeksOf($schedule->RequestedBuckets) === array_map(fn ($d) => "$d 600", $weekDays),
            'PwsGetResourceSchedulingRoleData: the requested buckets hold the hours requested');
        $check($schedule !== null && $weeksOf($schedule->BookedBuckets) === array_map(fn ($d) => "$d 0", $weekDays)
            && $schedule->BookedHoursFlag === false, 'PwsGetResourceSchedulingRoleData: nothing is booked');
        $candidates = $items($schedule?->Candidates, 'PwsProjectRoleCandidate');
        $check($schedule !== null && ($schedule->ResourceIdentity->ResourceUid ?? null) === $second->uid
            && count($candidates) === 1 && $candidates[0]->ResourceIdentity->ResourceUid === $second->uid
            && $candidates[0]->SelectedCandidateFlag === true,
            'PwsGetResourceSchedulingRoleData: the requested resource is the second user, Uid exact');
        $check(array_map(fn ($r) => $r->ResourceIdentity->ResourceUid, $items($scheduling->Resources, 'PwsResourceSchedule'))
            === [$second->uid], 'PwsGetResourceSchedulingRoleData: Resources lists the second user, Uid exact');
        $roles = $call('PwsGetProjectRoles', $first,
            ['Mode' => 'R', 'ProjectIdentities' => ['PwsProjectRef' => [['ProjectUid' => $project->uid]]]]);
        $projectRoles = $items($roles->ProjectProjectRoles, 'PwsProjectProjectRoles')[0] ?? null;
        $readRole = $items($projectRoles?->ProjectRoles, 'PwsProjectRoleElement')[0] ?? null;
        $check($readRole !== null && $readRole->ProjectRoleDetail->ProjectRoleUid === $role->uid,
            'PwsGetProjectRoles: the role Uid is exact');
        $check($readRole !== null && array_map(fn ($b) => $b->WeeklyMinutes,
            $items($readRole->HoursBuckets, 'PwsProjectRoleHoursBucket')) === [600, 600],
            'PwsGetProjectRoles: the requested hours are back');
        $read = $call('PwsGetProject', $first,
            ['Mode' => 'A', 'ProjectIdentities' => ['PwsProjectRef' => [['ProjectUid' => $project->uid]]]]);
        $readProject = $items($read->Projects, 'PwsProjectElement')[0] ?? null;
        $check($readProject !== null && $readProject->ProjectDetail->ProjectUid === $project->uid
            && $readProject->ProjectDetail->EngagementIdentity->EngagementUid === $engagement->uid,
            'PwsGetProject: the project and engagement Uids are exact');
        $check($readProject !== null && $readProject->ProjectDetail->ContractLineItemIdentity->ContractLineItemUid === $line->uid,
            'PwsGetProject: the project is on the second contract line item, Uid exact');

        // A business error is an answer, not an exception; the role is deleted once its hours may go.
        $roleRef = ['ProjectRoleIdentity' => ['ProjectRoleUid' => $role->uid]];
        $refused = $call('PwsDeleteProjectRole', $first, $roleRef);
        $check($refused->Status === 'Fail', 'PwsDeleteProjectRole of a role with hours answers Status=Fail');
        $call('PwsDeleteProjectRole', $first, $roleRef + ['ZeroOutHoursFlag' => true]);
        $call('PwsUndeleteProjectRole', $first, $roleRef);

        // The second user locks the engagement; the first user's write gets a PwsFault as a SoapFault,
        // and sends its LockHolders back, as parsed, to steal the lock.
        $locked = $call('PwsAcquireProjectorLocks', $second, ['LockDurationSeconds' => 600,
            'Locks' => ['PwsProjectorLockRequest' => [['EntityIdentity' => ['EntityUid' => $engagement->uid, 'LockType' => 'E']]]]]);
        $setId = $locked->ProjectorLockSetId;
        $lock = $items($locked->Locks, 'PwsProjectorLock')[0] ?? null;
        $check($lock !== null && $lock->EntityIdentity->EntityUid === $engagement->uid
            && $lock->EntityIdentity->EntityCode === $engagement->code,
            'PwsAcquireProjectorLocks: the locked engagement comes back with its exact Uid');
        $call('PwsCheckProjectorLocks', $second, ['ProjectorLockSetId' => $setId]);
        $call('PwsRenewProjectorLocks', $second, ['LockDurationSeconds' => 600, 'ProjectorLockSetId' => $setId]);
        $rename = ['Mode' => 'R', 'Project' => ['ProjectUid' => $project->uid, 'ProjectName' => "Stack phase one $tag"]];
        $fault = $this->expectFault('PwsSaveProject', $first, $rename);
        $check($fault !== null, "PwsSaveProject under another user's lock is a SOAP fault with a PwsFault detail");
        if ($fault !== null) {
            // SoapClient does not read a fault's detail by the WSDL's types: every value in it is
            // its text (a Uid's digits, exact; "true" for a flag).
            $check(($fault->LockHolderUserIdentity->UserUid ?? null) === (string) $second->uid,
                'PwsFault: LockHolderUserIdentity is the second user, Uid exact');
            $holder = $items($fault->LockHolders, 'PwsEntityLockSummary')[0] ?? null;
            $check($holder !== null && $holder->EntityIdentity->EntityUid === (string) $engagement->uid,
                'PwsFault: LockHolders names the engagement by its exact Uid');
            $check($fault->AllowLocksToBeStolenFlag === 'true', 'PwsFault: AllowLocksToBeStolenFlag is true');
            $stolen = $call('PwsSaveProject', $first, $rename + ['LocksToSteal' => $fault->LockHolders]);
            $check(($stolen->LockStolenFromUserIdentity->UserUid ?? null) === $second->uid,
                'LocksToSteal: the save reports the lock stolen from the second user');
        }
        $released = $call('PwsReleaseProjectorLocks', $second, ['ProjectorLockSetId' => $setId]);
        $check(($released->StolenLock->LockStolenByUser->UserUid ?? null) === $first->uid,
            'PwsReleaseProjectorLocks: StolenLock names the first user, Uid exact');

        // An invoice, which then keeps the engagement from being deleted.
        $saved = $call('PwsCreateInvoice', $first, ['InvoiceSpec' => [
            'ClientIdentity' => ['ClientUid' => $child->uid], 'EngagementIdentity' => ['EngagementUid' => $engagement->uid],
            'ProjectIdentity' => ['ProjectUid' => $project->uid], 'CostCenterIdentity' => ['CostCenterName' => 'Head Office'],
            'EngagementCurrencyIdentity' => ['CurrencyCode' => 'USD'], 'BillingCultureIdentity' => ['CultureName' => 'en-US'],
            'InvoiceName' => 'First', 'InvoiceContent' => 'A']]);
        $invoice = $this->made('invoice', $saved->InvoiceIdentity->InvoiceNumber, $saved->InvoiceIdentity->InvoiceUid);
        $got = $call('PwsGetInvoice', $first, ['InvoiceIdentity' => ['InvoiceUid' => $invoice->uid]]);
        $check($got->Invoice->InvoiceIdentity->InvoiceUid === $invoice->uid
            && $got->Invoice->Engagement->EngagementUid === $engagement->uid,
            'PwsGetInvoice: the invoice and engagement Uids are exact');
        $call('PwsDeleteEngagement', $first,
            ['EngagementIdentity' => ['EngagementUid' => $engagement->uid], 'CascadeDeleteFlag' => true]);

        // Deletes, each by Uid: a project, its engagement, a client.
        $saved = $call('PwsSaveEngagement', $first,
            ['Engagement' => ['ClientIdentity' => ['ClientUid' => $parent->uid], 'EngagementName' => "Stack short $tag"]]);
        $shortLived = $saved->EngagementIdentity;
        $saved = $call('PwsSaveProject', $first, ['Mode' => 'R', 'Project' => [
            'EngagementIdentity' => ['EngagementUid' => $shortLived->EngagementUid], 'ProjectName' => 'Stack short project']]);
        $call('PwsDeleteProject', $first, ['ProjectIdentity' => ['ProjectUid' => $saved->ProjectIdentity->ProjectUid]]);
        $call('PwsDeleteEngagement', $first, ['EngagementIdentity' => ['EngagementUid' => $shortLived->EngagementUid]]);
        $saved = $call('PwsSaveClient', $first,
            ['Client' => ['ClientName' => "Stack leaf $tag", 'ParentClientIdentity' => ['ClientUid' => $parent->uid]]]);
        $call('PwsDeleteClient', $first, ['ClientIdentity' => ['ClientUid' => $saved->ClientIdentity->ClientUid]]);

        // The rate limiter, off by default, still counts its own call and the hits it simulates.
        $snapshot = $call('PwsTestRateLimiter', $second, ['SimulateSessionHitsAfter' => 5])->RateLimitSnapshot ?? null;
        $check($snapshot !== null && $snapshot->EnabledFlag === false && (int) $snapshot->SessionHitCount === 6
            && (int) $snapshot->UserHitCount === 1 && (int) $snapshot->RollingWindowSeconds === 60
            && (int) $snapshot->SessionRateLimit === 1200,
            'PwsTestRateLimiter: the snapshot counts its own hit and the simulated ones');

        // Log out; the ticket is dead after.
        $call('PwsUnauthenticate', $second);
        $call('PwsUnauthenticate', $first);
        $call('PwsGetClient', $first, ['ClientIdentities' => ['PwsClientRef' => [['ClientUid' => $child->uid]]]]);
    }

    public function report(?Throwable $error): void
    {
        $called = array_unique(array_column($this->calls, 'operation'));
        echo json_encode([
            'stack' => 'PHP SoapClient (ext-soap) on PHP ' . PHP_VERSION,
            'operations' => $this->operations,
            'uncalled' => array_values(array_diff($this->operations, $called)),
            'calls' => $this->calls,
            'entities' => $this->entities,
            'failures' => $this->failures,
            'error' => $error === null ? null : (string) $error,
        ], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
    }
}

$scenario = new Scenario(json_decode($argv[1], true, flags: JSON_THROW_ON_ERROR));
try {
    $scenario->run();
    $scenario->report(null);
} catch (Throwable $error) {
    $scenario->report($error);
}
